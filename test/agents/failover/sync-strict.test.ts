import { Client } from 'pg';
import { describe, expect, it } from 'vitest';
import type { WriteCopies } from '../../../src/agents/failover/types.js';
import type { FailoverCluster } from '../../../src/lab/procs/failover-cluster.js';
import { failoverClusters, newPrimary, state, until } from '../../helpers/failover.js';

const T = 180_000;
/** How long a commit must stay unacknowledged with no standby left (strict mode makes it wait for good). */
const waitsAtLeastMs = 3000;

async function connect(cluster: FailoverCluster, name: string): Promise<Client> {
  const client = new Client({ connectionString: cluster.member(name).pgUrl(), connectionTimeoutMillis: 2000 });
  await client.connect();
  return client;
}

interface Sample {
  readonly writable: boolean;
  readonly ssn: string;
}

/**
 * Samples `name` every few ms over one session until `stop` aborts; at its first writable sample,
 * sends one INSERT on a second session opened beforehand, and resolves `write` with the WAL position
 * the INSERT reached once it is acknowledged.
 */
function watchPromotion(cluster: FailoverCluster, name: string, stop: AbortSignal) {
  const samples: Sample[] = [];
  const done = (async () => {
    const [sampler, writer] = [await connect(cluster, name), await connect(cluster, name)];
    let write: Promise<string> | null = null;
    try {
      while (!stop.aborted) {
        const res = await sampler.query<{ r: boolean; ssn: string }>(
          `SELECT pg_is_in_recovery() AS r, current_setting('synchronous_standby_names') AS ssn`,
        );
        const row = res.rows[0]!;
        samples.push({ writable: !row.r, ssn: row.ssn });
        if (!row.r && write === null)
          write = writer
            .query<{ lsn: string }>(
              `INSERT INTO strict_edge VALUES ($1) RETURNING pg_current_wal_insert_lsn()::text AS lsn`,
              [name],
            )
            .then((r) => r.rows[0]!.lsn);
        await new Promise((r) => setTimeout(r, 5));
      }
      return { samples, lsn: write === null ? null : await write };
    } finally {
      await Promise.all([sampler.end(), writer.end()].map((p) => p.catch(() => undefined)));
    }
  })();
  return { samples, done };
}

async function writesOf(cluster: FailoverCluster, name: string): Promise<WriteCopies | undefined> {
  return ((await state(cluster, name)).state as { writes?: WriteCopies }).writes;
}

describe('strict synchronous mode (real PostgreSQL and etcd, 3 nodes on loopback)', () => {
  const start = failoverClusters();

  it(
    'a promotion has no gap: the promoted standby is writable only with synchronous_standby_names set, and its first write returns once a standby holds it',
    async () => {
      const cluster = await start({ synchronous: true, synchronousStrict: true });
      const primary = await cluster.waitHealthy();
      const standbys = cluster.members.filter((m) => m.name !== primary).map((m) => m.name);
      await until(
        'two synchronous standbys',
        async () => ((await writesOf(cluster, primary))?.synchronous ?? 0) === 2,
        30_000,
        100,
      );
      const setup = await connect(cluster, primary);
      await setup.query('CREATE TABLE strict_edge (who text)').finally(() => setup.end());
      for (const name of standbys)
        await until(
          `strict_edge on ${name}`,
          async () => {
            const c = await connect(cluster, name);
            const res = await c.query(`SELECT to_regclass('strict_edge') AS t`).finally(() => c.end());
            return res.rows[0]?.t !== null;
          },
          10_000,
          100,
        );
      const stop = new AbortController();
      const watches = new Map(standbys.map((name) => [name, watchPromotion(cluster, name, stop.signal)]));
      try {
        await until(
          'every sampler running',
          async () => [...watches.values()].every((w) => w.samples.length > 0),
          10_000,
        );
        cluster.member(primary).killNode();
        const next = await newPrimary(cluster, primary, 30_000);
        const watch = watches.get(next)!;
        await until(`${next}'s first write acknowledged`, async () => watch.samples.some((s) => s.writable), 10_000);
        stop.abort();
        const seen = await watch.done;
        const writable = seen.samples.filter((s) => s.writable);
        expect(writable.length).toBeGreaterThan(0);
        expect(writable.filter((s) => s.ssn === '')).toEqual([]);
        expect(seen.lsn).not.toBeNull();
        // Right after the acknowledgement, a standby of the new primary has flushed the INSERT.
        const check = await connect(cluster, next);
        const held = await check
          .query<{ name: string }>(
            `SELECT application_name AS name FROM pg_stat_replication WHERE sync_state IN ('sync', 'quorum') AND flush_lsn >= $1::pg_lsn`,
            [seen.lsn],
          )
          .finally(() => check.end());
        expect(held.rows.map((r) => r.name)).toEqual(standbys.filter((n) => n !== next));
      } finally {
        stop.abort();
        await Promise.all([...watches.values()].map((w) => w.done.catch(() => undefined)));
      }
    },
    T,
  );

  it(
    'a standby killed, then the primary: the last synchronous standby is promoted, and its writes wait until a standby is back',
    async () => {
      const cluster = await start({ synchronous: true, synchronousStrict: true });
      const primary = await cluster.waitHealthy();
      const [a, b] = cluster.members.filter((m) => m.name !== primary);
      await until(
        'two synchronous standbys',
        async () => ((await writesOf(cluster, primary))?.synchronous ?? 0) === 2,
        30_000,
        100,
      );
      a!.killNode();
      await until(
        `${primary} down to one synchronous standby`,
        async () => (await writesOf(cluster, primary))?.synchronous === 1,
        30_000,
        100,
      );
      cluster.member(primary).killNode();
      const writer = await until(
        `${b!.name} promoted`,
        async () => {
          const c = await connect(cluster, b!.name);
          const res = await c.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r');
          if (!res.rows[0]!.r) return c;
          await c.end();
          return null;
        },
        30_000,
        100,
      );
      try {
        const commit = writer.query('CREATE TABLE strict_last (n int)').then(() => Date.now());
        const early = await Promise.race([
          commit.then(() => 'acknowledged'),
          new Promise<string>((r) => setTimeout(() => r('waiting'), waitsAtLeastMs)),
        ]);
        expect(early).toBe('waiting');
        const backAt = Date.now();
        await a!.startDaemon();
        expect(await commit).toBeGreaterThan(backAt);
        expect(await newPrimary(cluster, primary, 30_000)).toBe(b!.name);
      } finally {
        await writer.end().catch(() => undefined);
      }
    },
    T,
  );

  it(
    'with both standbys dead a commit waits (not acknowledged by the primary alone) and returns once a standby is back, which holds it',
    async () => {
      const cluster = await start({ synchronous: true, synchronousStrict: true });
      const primary = await cluster.waitHealthy();
      const [a, b] = cluster.members.filter((m) => m.name !== primary);
      await until(
        'a synchronous standby',
        async () => ((await writesOf(cluster, primary))?.synchronous ?? 0) > 0,
        30_000,
        100,
      );
      const writer = await connect(cluster, primary);
      try {
        await writer.query('CREATE TABLE strict_probe (n int)');
        a!.killNode();
        b!.killNode();
        const waiting = await until(
          `${primary} publishing that writes wait`,
          async () => {
            const w = await writesOf(cluster, primary);
            return w?.warning?.includes('wait') === true ? w : null;
          },
          30_000,
          100,
        );
        expect(waiting).toMatchObject({ mode: 'strict', synchronous: 0, streaming: 0 });
        const commit = writer.query('INSERT INTO strict_probe VALUES (1)').then(() => Date.now());
        const early = await Promise.race([
          commit.then(() => 'acknowledged'),
          new Promise<string>((r) => setTimeout(() => r('waiting'), waitsAtLeastMs)),
        ]);
        expect(early).toBe('waiting');
        const backAt = Date.now();
        await a!.startDaemon();
        const acknowledgedAt = await commit;
        expect(acknowledgedAt).toBeGreaterThan(backAt);
        const standby = await connect(cluster, a!.name);
        try {
          const rows = await until(
            `the row on ${a!.name}`,
            async () => {
              const res = await standby.query<{ n: number }>('SELECT n FROM strict_probe');
              return res.rows.length > 0 ? res.rows : null;
            },
            10_000,
          );
          expect(rows).toEqual([{ n: 1 }]);
        } finally {
          await standby.end();
        }
      } finally {
        await writer.end().catch(() => undefined);
      }
    },
    T,
  );
});
