import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { Client } from 'pg';
import { describe, expect, it } from 'vitest';
import { lostWrites } from '../../../src/lab/workload/write-probe.js';
import type { PrimaryRecord } from '../../../src/agents/failover/types.js';
import type { FailoverCluster } from '../../../src/lab/procs/failover-cluster.js';
import { delay } from '../../helpers/wait-for.js';
import {
  acksAfter,
  failoverClusters,
  firstAck,
  history,
  invoke,
  newPrimary,
  probeOf,
  state,
  survivingSeqs,
  until,
} from '../../helpers/failover.js';

const T = 180_000;

async function writable(cluster: FailoverCluster, name: string): Promise<boolean> {
  const client = new Client({
    host: '127.0.0.1',
    port: cluster.member(name).pgPort,
    user: 'postgres',
    database: 'postgres',
    connectionTimeoutMillis: 500,
    query_timeout: 500,
  });
  // A server fenced while this session is open ends it: an error here, not an unhandled one.
  client.on('error', () => undefined);
  try {
    await client.connect();
    const res = await client.query<{ r: boolean; ro: string }>(
      `SELECT pg_is_in_recovery() AS r, current_setting('default_transaction_read_only') AS ro`,
    );
    return res.rows[0]!.r === false && res.rows[0]!.ro === 'off';
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function inRecovery(cluster: FailoverCluster, name: string): Promise<boolean> {
  const client = new Client({ connectionString: cluster.member(name).pgUrl(), connectionTimeoutMillis: 1000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r')).rows[0]!.r;
  } finally {
    await client.end();
  }
}

/** SIGTERM to a member's daemon; resolves once the daemon process is gone. */
async function terminateDaemon(cluster: FailoverCluster, name: string): Promise<void> {
  const m = cluster.member(name);
  m.killDaemon('SIGTERM');
  await until(`${name}'s daemon to exit after SIGTERM`, async () => m.daemonPid() === null, 20_000, 20);
}

async function pauseEverywhere(cluster: FailoverCluster, via: string): Promise<void> {
  expect((await invoke(cluster, via, 'pause', {})).body).toMatchObject({ ok: true });
  await until(
    'paused everywhere',
    async () =>
      (await Promise.all(cluster.members.map((m) => state(cluster, m.name)))).every(
        (v) => (v.state as { config: { paused: boolean } }).config.paused,
      ),
    5000,
    50,
  );
}

async function completed(cluster: FailoverCluster, kind: string, to: string): Promise<void> {
  const entry = await until(
    `a completed ${kind} entry to ${to}`,
    async () =>
      (await history(cluster)).find((h) => h.kind === kind && h.newPrimary === to && h.outcome === 'completed'),
    15_000,
    100,
  );
  expect(entry.timeToFirstWriteMs).toBeGreaterThan(0);
  expect(entry.promotedAt).not.toBeNull();
}

describe('failover agent on real PostgreSQL and etcd (3 nodes on loopback)', () => {
  const start = failoverClusters();

  it(
    "fails over after kill -9 of the primary's daemon and server, records why, and rejoins the old primary",
    async () => {
      const cluster = await start();
      const old = await cluster.waitHealthy();
      const probe = probeOf(cluster);
      await delay(1000);
      const killAt = Date.now();
      cluster.member(old).killNode();
      const next = await newPrimary(cluster, old, 10_000);
      expect(Date.now() - killAt).toBeLessThan(5000);
      await cluster.member(old).startDaemon();
      expect(await cluster.waitHealthy()).toBe(next);
      const [entry] = await history(cluster);
      expect(entry).toMatchObject({ kind: 'failover', oldPrimary: old, newPrimary: next });
      expect(entry!.signal).toMatch(/refuse connections|lease|crashed/);
      expect(entry!.candidates.map((c) => c.name).sort()).toEqual(
        cluster.members
          .map((m) => m.name)
          .filter((n) => n !== old)
          .sort(),
      );
      await completed(cluster, 'failover', next);
      await probe.stop();
      const switchAt = firstAck(probe.attempts, cluster.member(next).pgPort, killAt)!.end;
      expect(acksAfter(probe.attempts, cluster.member(old).pgPort, switchAt)).toEqual([]);
    },
    T,
  );

  it(
    'fails over when only the server is killed; the surviving daemon rewinds it into a replica',
    async () => {
      const cluster = await start();
      const old = await cluster.waitHealthy();
      cluster.member(old).killPostgres();
      const next = await newPrimary(cluster, old, 10_000);
      expect(await cluster.waitHealthy()).toBe(next);
      const entry = (await history(cluster)).find((h) => h.newPrimary === next)!;
      expect(entry.signal).toMatch(new RegExp(`${old} reports its postgres crashed|refuse`));
      expect(await writable(cluster, old)).toBe(false);
    },
    T,
  );

  it(
    'a primary stopped longer than its lease comes back fenced, then rejoins; no write is acknowledged by two primaries',
    async () => {
      const cluster = await start({ synchronous: true });
      const old = await cluster.waitHealthy();
      await until(
        'a synchronous standby',
        async () => ((await state(cluster, old)).state as { members: { sync: boolean }[] }).members.some((m) => m.sync),
        15_000,
        100,
      );
      const probe = probeOf(cluster);
      await delay(1000);
      const stopAt = Date.now();
      cluster.member(old).killNode('SIGSTOP');
      const next = await newPrimary(cluster, old, 15_000);
      await delay(1000);
      cluster.member(old).killNode('SIGCONT');
      await until(`${old} fenced or demoted`, async () => !(await writable(cluster, old)), 5000, 20);
      expect(await cluster.waitHealthy()).toBe(next);
      await delay(500);
      await probe.stop();
      const switchAt = firstAck(probe.attempts, cluster.member(next).pgPort, stopAt)!.end;
      expect(acksAfter(probe.attempts, cluster.member(old).pgPort, switchAt)).toEqual([]);
      expect(lostWrites(probe.attempts, await survivingSeqs(cluster, next))).toEqual([]);
    },
    T,
  );

  it(
    'an etcd restart causes no demotion and no failover: the primary keeps taking writes (failsafe)',
    async () => {
      const cluster = await start();
      const primary = await cluster.waitHealthy();
      const probe = probeOf(cluster);
      await delay(500);
      const before = (await history(cluster)).length;
      cluster.etcd.kill('SIGKILL');
      const downAt = Date.now();
      await delay(6000);
      const duringOutage = probe.attempts.filter((a) => a.start > downAt + 3000 && a.end < Date.now());
      await cluster.etcd.restart();
      await delay(3000);
      expect(await cluster.waitHealthy(30_000)).toBe(primary);
      await probe.stop();
      expect(duringOutage.length).toBeGreaterThan(50);
      expect(duringOutage.every((a) => a.ok && a.port === cluster.member(primary).pgPort)).toBe(true);
      expect((await history(cluster)).length).toBe(before);
    },
    T,
  );

  it(
    "a daemon crash in the middle of a failover: the winner's daemon dies right after it is named, and finishes on restart",
    async () => {
      const cluster = await start();
      const old = await cluster.waitHealthy();
      const etcd = new Etcd3({ hosts: cluster.etcd.endpoint });
      try {
        cluster.member(old).killNode();
        const named = await until(
          'a new primary record',
          async () => {
            const raw = await etcd.get('/pgdeck/lab/primary').string();
            const record = raw === null ? null : (JSON.parse(raw) as PrimaryRecord);
            return record !== null && record.name !== old ? record.name : null;
          },
          10_000,
          2,
        );
        cluster.member(named).killDaemon();
        await delay(1000);
        await cluster.member(named).startDaemon();
        await cluster.member(old).startDaemon();
        // The named winner finishes on restart, or, when its lease ran out meanwhile (a loaded machine),
        // the other replica takes over under the double-fault rule: either way one primary, not the old one.
        expect([named, ...cluster.members.map((m) => m.name).filter((n) => n !== old && n !== named)]).toContain(
          await cluster.waitHealthy(),
        );
        const writers = await Promise.all(cluster.members.map((m) => writable(cluster, m.name)));
        expect(writers.filter(Boolean)).toHaveLength(1);
      } finally {
        etcd.close();
      }
    },
    T,
  );

  it(
    'switches over both ways through the action API without losing a write',
    async () => {
      const cluster = await start({ synchronous: true });
      const first = await cluster.waitHealthy();
      const other = cluster.members.find((m) => m.name !== first)!.name;
      const probe = probeOf(cluster);
      await delay(1000);
      const there = await invoke(cluster, other, 'switchover', { candidate: other });
      expect(there.status).toBe(200);
      expect(there.body).toMatchObject({ ok: true });
      expect(await cluster.waitHealthy()).toBe(other);
      const back = await invoke(cluster, first, 'switchover', { candidate: first });
      expect(back.body).toMatchObject({ ok: true });
      expect(await cluster.waitHealthy()).toBe(first);
      await completed(cluster, 'switchover', other);
      await completed(cluster, 'switchover', first);
      await delay(300);
      await probe.stop();
      expect(probe.attempts.filter((a) => a.ok).length).toBeGreaterThan(50);
      expect(lostWrites(probe.attempts, await survivingSeqs(cluster, first))).toEqual([]);
    },
    T,
  );

  it(
    'synchronous mode: a continuous writer loses no acknowledged write across a crash and a switchover',
    async () => {
      const cluster = await start({ synchronous: true });
      const old = await cluster.waitHealthy();
      await until(
        'a synchronous standby',
        async () => ((await state(cluster, old)).state as { members: { sync: boolean }[] }).members.some((m) => m.sync),
        15_000,
        100,
      );
      const probe = probeOf(cluster);
      await delay(1500);
      cluster.member(old).killNode();
      const next = await newPrimary(cluster, old, 10_000);
      await cluster.member(old).startDaemon();
      await cluster.waitHealthy();
      // In synchronous mode only a synchronous standby may take over: wait until the rejoined one is one again.
      await until(
        `${old} streaming as a synchronous standby`,
        async () =>
          (
            (await state(cluster, next)).state as { members: { name: string; sync: boolean; state: string }[] }
          ).members.some((m) => m.name === old && m.sync && m.state === 'streaming'),
        30_000,
        100,
      );
      const back = await invoke(cluster, next, 'switchover', { candidate: old });
      expect(back.body).toMatchObject({ ok: true });
      await cluster.waitHealthy();
      await delay(1000);
      await probe.stop();
      const acked = probe.attempts.filter((a) => a.ok);
      expect(acked.length).toBeGreaterThan(100);
      expect(lostWrites(probe.attempts, await survivingSeqs(cluster, old))).toEqual([]);
    },
    T,
  );

  it(
    'pause stops automatic failover (a crashed primary restarts in place); bad dynamic config is refused and the old kept',
    async () => {
      const cluster = await start();
      const primary = await cluster.waitHealthy();
      const bad = await invoke(cluster, primary, 'config', { set: { ttlSeconds: 0 } });
      expect(bad.status).toBe(400);
      expect(JSON.stringify(bad.body)).toMatch(/ttlSeconds/);
      expect(((await state(cluster, primary)).state as { config: { ttlSeconds: number } }).config.ttlSeconds).toBe(2);
      expect((await invoke(cluster, primary, 'pause', {})).body).toMatchObject({ ok: true });
      await until(
        'paused everywhere',
        async () => {
          const views = await Promise.all(cluster.members.map((m) => state(cluster, m.name)));
          return views.every((v) => (v.state as { config: { paused: boolean } }).config.paused);
        },
        5000,
        50,
      );
      cluster.member(primary).killPostgres();
      await delay(300);
      expect(await until('the same primary back', async () => (await cluster.primary()) === primary, 15_000, 50)).toBe(
        true,
      );
      expect((await history(cluster)).filter((h) => h.kind === 'failover')).toEqual([]);
      expect((await invoke(cluster, primary, 'resume', {})).body).toMatchObject({ ok: true });
      expect((await invoke(cluster, primary, 'config', { set: { ttlSeconds: 3 } })).body).toMatchObject({ ok: true });
      await until(
        'the new TTL everywhere',
        async () => {
          const views = await Promise.all(cluster.members.map((m) => state(cluster, m.name)));
          return views.every((v) => (v.state as { config: { ttlSeconds: number } }).config.ttlSeconds === 3);
        },
        5000,
        50,
      );
      await delay(4000);
      expect(await cluster.waitHealthy()).toBe(primary);
      expect((await history(cluster)).filter((h) => h.kind === 'failover')).toEqual([]);
      const replica = await fetch(`${cluster.member(primary).apiUrl}/replica?lag=abc`);
      expect(replica.status).toBe(400);
    },
    T,
  );

  it(
    'paused: a dead primary stays down; a manual failover previews its data loss and promotes the named replica; reinit re-clones a replica',
    async () => {
      const cluster = await start();
      const old = await cluster.waitHealthy();
      const [a, b] = cluster.members.filter((m) => m.name !== old).map((m) => m.name) as [string, string];
      expect((await invoke(cluster, a, 'pause', {})).body).toMatchObject({ ok: true });
      await until(
        'paused everywhere',
        async () =>
          (await Promise.all(cluster.members.map((m) => state(cluster, m.name)))).every(
            (v) => (v.state as { config: { paused: boolean } }).config.paused,
          ),
        5000,
        50,
      );
      cluster.member(old).killNode();
      await until(
        `${a} to see ${old} down`,
        async () =>
          ((await state(cluster, a)).state as { members: { name: string; healthy: boolean }[] }).members.some(
            (m) => m.name === old && !m.healthy,
          ),
        15_000,
        100,
      );
      await delay(3000);
      expect(await cluster.primary()).toBeNull();
      expect((await history(cluster)).filter((h) => h.kind === 'failover')).toEqual([]);

      const preview = await invoke(cluster, a, 'failover/preview', { candidate: b });
      expect(preview.status).toBe(200);
      expect(preview.body).toMatchObject({ action: 'failover', allowed: true, restarts: [old] });
      expect(String(preview.body.summary)).toContain(`promote ${b} in place of ${old}`);
      expect(preview.body.dataLossBytes).toBeGreaterThanOrEqual(0);
      const done = await invoke(cluster, a, 'failover', { candidate: b });
      expect(done.body).toMatchObject({ ok: true });
      expect(await newPrimary(cluster, old, 10_000)).toBe(b);
      await completed(cluster, 'manual-failover', b);
      await cluster.member(old).startDaemon();
      expect(await cluster.waitHealthy()).toBe(b);

      const refused = await invoke(cluster, b, 'reinit', { member: b });
      expect(refused.status).toBe(412);
      expect(JSON.stringify(refused.body)).toContain('is the primary');
      const marker = join(cluster.member(old).dataDir, 'pgdeck-test-marker');
      writeFileSync(marker, 'left by the test; a re-clone removes it');
      expect((await invoke(cluster, b, 'reinit', { member: old })).body).toMatchObject({ ok: true });
      await until(`${old}'s data directory to be re-cloned`, async () => !existsSync(marker), 60_000, 100);
      expect(await cluster.waitHealthy()).toBe(b);
      const client = new Client({ connectionString: cluster.member(b).pgUrl() });
      await client.connect();
      await client.query('CREATE TABLE after_reinit (v int); INSERT INTO after_reinit VALUES (42)');
      await client.end();
      await until(
        `${old} to replay a write made after its reinit`,
        async () => {
          const replica = new Client({ connectionString: cluster.member(old).pgUrl() });
          await replica.connect();
          try {
            return (await replica.query<{ v: number }>('SELECT v FROM after_reinit')).rows[0]?.v === 42;
          } finally {
            await replica.end();
          }
        },
        10_000,
        100,
      );
    },
    T,
  );

  it(
    "SIGTERM of the primary's daemon shuts its postgres down cleanly and a replica takes over at once; paused, a daemon leaves its server running",
    async () => {
      const cluster = await start();
      const old = await cluster.waitHealthy();
      const oldMember = cluster.member(old);
      const pgLog = join(dirname(oldMember.dataDir), `${old}-postgres.log`);
      const logBefore = readFileSync(pgLog, 'utf8').length;
      const probe = probeOf(cluster);
      await until(
        'a write acknowledged by the primary',
        async () => firstAck(probe.attempts, oldMember.pgPort, 0),
        10_000,
      );
      const termAt = Date.now();
      oldMember.killDaemon('SIGTERM');
      const next = await newPrimary(cluster, old, 10_000);
      const servedAfterMs = Date.now() - termAt;
      await until(
        `${old}'s daemon and postmaster gone`,
        async () => oldMember.daemonPid() === null && oldMember.postgresPid() === null,
        20_000,
      );
      expect(readFileSync(pgLog, 'utf8').slice(logBefore)).toMatch(
        /received fast shutdown request[\s\S]*database system is shut down/,
      );
      const first = await until(
        `a write acknowledged by ${next}`,
        async () => firstAck(probe.attempts, cluster.member(next).pgPort, termAt),
        10_000,
      );
      await probe.stop();
      const entry = (await history(cluster)).find((h) => h.kind === 'failover' && h.newPrimary === next);
      expect(entry).toMatchObject({ oldPrimary: old, bytesLost: 0 });
      expect(entry!.signal).toMatch(
        new RegExp(`lease of ${old} expired \\(postgres: refused\\)|${old} refuse connections`),
      );
      expect(acksAfter(probe.attempts, oldMember.pgPort, first.end)).toEqual([]);
      expect(lostWrites(probe.attempts, await survivingSeqs(cluster, next))).toEqual([]);
      console.info(
        `SIGTERM of ${old}'s daemon: detected by the leader after ${entry!.detectedAt - termAt} ms (${entry!.signal}), ` +
          `first write on ${next} after ${first.end - termAt} ms, /primary answers after ${servedAfterMs} ms`,
      );
      expect(servedAfterMs).toBeLessThan(5000);
      await oldMember.startDaemon();
      expect(await cluster.waitHealthy()).toBe(next);

      await pauseEverywhere(cluster, next);
      const replica = cluster.members.find((m) => m.name !== next)!;
      const replicaPid = replica.postgresPid();
      expect(replicaPid).not.toBeNull();
      await terminateDaemon(cluster, replica.name);
      expect(replica.postgresPid()).toBe(replicaPid);
      expect(await inRecovery(cluster, replica.name)).toBe(true);
      await replica.startDaemon();
      expect(await cluster.waitHealthy()).toBe(next);
      expect(replica.postgresPid()).toBe(replicaPid);
    },
    T,
  );

  it(
    "--on-stop leave: SIGTERM of the primary's daemon leaves its postgres serving writes, no failover follows, and a new daemon adopts it",
    async () => {
      const cluster = await start({ onStop: 'leave' });
      const primary = await cluster.waitHealthy();
      const m = cluster.member(primary);
      const pid = m.postgresPid();
      expect(pid).not.toBeNull();
      await terminateDaemon(cluster, primary);
      const others = cluster.members.filter((x) => x.name !== primary).map((x) => x.name);
      await until(
        `the leader to see ${primary}'s daemon gone and its postgres serving`,
        async () => {
          const views = await Promise.all(others.map((n) => state(cluster, n)));
          return views.some((v) =>
            String((v.state as { lastProblem: string | null }).lastProblem).includes(`daemon of ${primary} is down`),
          );
        },
        15_000,
        50,
      );
      expect(m.postgresPid()).toBe(pid);
      expect(await writable(cluster, primary)).toBe(true);
      expect((await history(cluster)).filter((h) => h.kind === 'failover')).toEqual([]);
      await m.startDaemon();
      expect(await cluster.waitHealthy()).toBe(primary);
      expect(m.postgresPid()).toBe(pid);
    },
    T,
  );
});
