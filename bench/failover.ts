import { spawn, type ChildProcess } from 'node:child_process';
import { Client } from 'pg';
import type { HistoryEntry } from '../src/agents/failover/types.js';
import { startEtcd, type EtcdServer } from '../src/lab/procs/etcd.js';
import { startFailoverCluster, type FailoverCluster } from '../src/lab/procs/failover-cluster.js';
import { patroniDefaults, startPatroniCluster, type PatroniCluster } from '../src/lab/procs/patroni.js';
import {
  lostWrites,
  recoveryTime,
  startWriteProbe,
  unavailabilityWindow,
  type WriteProbe,
} from '../src/lab/workload/write-probe.js';
import { newResult, type BenchOptions, type BenchResult } from './report.js';

/**
 * `npm run bench -- failover [--quick] [--soak]`: pgdeck's failover daemons and Debian's Patroni 3.0.2
 * (defaults) in one run, same PostgreSQL (fsync on), same etcd, three members on loopback, same libpq
 * write probe (INSERT every 20 ms, multi-host, target_session_attrs=read-write). RTO = kill to the
 * first write acknowledged by another server. `--soak` adds 10 minutes (1 with --quick) of both cores
 * saturated, counting spurious failovers. `--wal-segsize=N` bootstraps both pgdeck's and Patroni's
 * clusters with initdb `--wal-segsize=N` (MB; PostgreSQL's 16 by default): a promotion copies and
 * fsyncs its whole current segment onto the new timeline.
 */
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const progress = (message: string): void => void process.stderr.write(`[failover bench] ${message}\n`);

interface Stats {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

function stats(values: readonly number[]): Stats {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  return { median: mid, min: s[0] ?? Number.NaN, max: s.at(-1) ?? Number.NaN };
}

function put(target: Record<string, number>, name: string, values: readonly number[]): void {
  const s = stats(values);
  target[`${name}_median_s`] = s.median / 1000;
  target[`${name}_min_s`] = s.min / 1000;
  target[`${name}_max_s`] = s.max / 1000;
}

/** Where a member's PostgreSQL listens. */
export interface PgServer {
  readonly host: string;
  readonly port: number;
}

export const pgServer = (member: { host: string; pgPort: number }): PgServer => ({
  host: member.host,
  port: member.pgPort,
});

/** The probe rows on whichever of `servers` is the writable primary now (the source of truth). */
export async function surviving(servers: readonly PgServer[]): Promise<Set<number>> {
  for (const { host, port } of servers) {
    const client = new Client({
      host,
      port,
      user: 'postgres',
      database: 'postgres',
      connectionTimeoutMillis: 2000,
    });
    try {
      await client.connect();
      if ((await client.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r')).rows[0]?.r !== false) continue;
      return new Set((await client.query<{ seq: string }>('SELECT seq FROM probe')).rows.map((r) => Number(r.seq)));
    } catch {
      continue;
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  throw new Error('no writable primary to count surviving writes on');
}

/** How many standbys stream from `server` (the same readiness pgdeck's runs wait for). */
export async function streamingReplicas({ host, port }: PgServer): Promise<number> {
  const client = new Client({
    host,
    port,
    user: 'postgres',
    database: 'postgres',
    connectionTimeoutMillis: 2000,
  });
  try {
    await client.connect();
    return (
      (
        await client.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_replication WHERE state = 'streaming'",
        )
      ).rows[0]?.n ?? 0
    );
  } catch {
    return 0;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function awaitRecovery(probe: WriteProbe, killAt: number, port: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rto = recoveryTime(probe.attempts, killAt, port);
    if (rto !== null) return rto;
    if (Date.now() > deadline)
      throw new Error(`no write acknowledged by another server ${timeoutMs} ms after the kill`);
    await sleep(20);
  }
}

/**
 * Stop to the first write the new primary acknowledged, from the flight recorder. A client blocked in
 * a query on the frozen server stays blocked until it resumes (the kernel keeps the socket alive), so
 * the probe cannot measure this case; the daemon's first write is a real committed transaction.
 */
async function firstWriteAfter(
  cluster: FailoverCluster,
  victim: string,
  stopAt: number,
  timeoutMs: number,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const m of cluster.members.filter((x) => x.name !== victim)) {
      const res = await fetch(`${m.apiUrl}/history`, { signal: AbortSignal.timeout(1000) }).catch(() => null);
      const history = res?.status === 200 ? ((await res.json()) as { history: HistoryEntry[] }).history : [];
      const entry = history.find((h) => h.oldPrimary === victim && h.startedAt >= stopAt && h.firstWriteAt !== null);
      if (entry?.firstWriteAt != null) return entry.firstWriteAt - stopAt;
    }
    if (Date.now() > deadline)
      throw new Error(`no failover away from ${victim} recorded ${timeoutMs} ms after it was stopped`);
    await sleep(100);
  }
}

async function switchoverWindow(probe: WriteProbe, run: () => Promise<void>): Promise<number> {
  await sleep(1000);
  const from = Date.now();
  await run();
  await sleep(1500);
  return unavailabilityWindow(probe.attempts, from, Date.now());
}

function portOf(cluster: FailoverCluster, name: string): number {
  return cluster.member(name).pgPort;
}

/** initdb's WAL segment size (MB) from `--wal-segsize=N`, given to both systems; undefined: PostgreSQL's 16. */
function walSegmentSize(args: readonly string[]): { walSegmentSizeMb?: number } {
  const flag = args.find((a) => a.startsWith('--wal-segsize='));
  return flag === undefined ? {} : { walSegmentSizeMb: Number(flag.slice('--wal-segsize='.length)) };
}

async function pgdeckRun(
  etcd: EtcdServer,
  segment: { walSegmentSizeMb?: number },
  kills: number,
  synchronous: boolean,
  cutoffs: number,
  switchovers: number,
  notes: string[],
): Promise<Record<string, number>> {
  const cluster = await startFailoverCluster({
    etcd,
    cluster: synchronous ? 'bench-sync' : 'bench',
    synchronous,
    pgParameters: { fsync: 'on' },
    ...segment,
  });
  const out: Record<string, number> = {};
  const tag = synchronous ? 'sync_' : '';
  try {
    let primary = await cluster.waitHealthy();
    const probe = startWriteProbe(
      cluster.members.map(() => '127.0.0.1').join(','),
      cluster.members.map((m) => m.pgPort).join(','),
    );
    const rtos: number[] = [];
    for (let i = 0; i < kills; i++) {
      await sleep(2000 + Math.random() * 1000);
      const killAt = Date.now();
      cluster.member(primary).killNode();
      rtos.push(await awaitRecovery(probe, killAt, portOf(cluster, primary), 60_000));
      progress(`pgdeck ${synchronous ? 'sync' : 'async'} kill ${i + 1}/${kills}: RTO ${rtos.at(-1)?.toFixed(0)} ms`);
      const old = primary;
      await cluster.member(old).startDaemon();
      primary = await cluster.waitHealthy();
    }
    put(out, `${tag}kill_rto`, rtos);
    notes.push(`pgdeck ${synchronous ? 'sync' : 'async'} kill RTOs (ms): ${rtos.map((r) => r.toFixed(0)).join(', ')}`);
    const cuts: number[] = [];
    for (let i = 0; i < cutoffs; i++) {
      await sleep(2000 + Math.random() * 1000);
      const stopAt = Date.now();
      const victim = cluster.member(primary);
      victim.killNode('SIGSTOP');
      try {
        cuts.push(await firstWriteAfter(cluster, victim.name, stopAt, 60_000));
        progress(`pgdeck cut-off ${i + 1}/${cutoffs}: ${cuts.at(-1)?.toFixed(0)} ms`);
      } finally {
        victim.killNode('SIGCONT');
      }
      primary = await cluster.waitHealthy();
    }
    if (cuts.length > 0) {
      put(out, `${tag}cutoff_rto`, cuts);
      notes.push(
        `pgdeck ${synchronous ? 'sync' : 'async'} cut-off (SIGSTOP of daemon and postgres, no connection reset; stop to the new primary's first committed write, from the flight recorder) RTOs (ms): ${cuts.map((r) => r.toFixed(0)).join(', ')}`,
      );
    }
    const windows: number[] = [];
    for (let i = 0; i < switchovers; i++) {
      windows.push(
        await switchoverWindow(probe, async () => {
          const res = await fetch(`${cluster.member(primary).apiUrl}/actions/switchover`, {
            method: 'POST',
            headers: { authorization: `Bearer ${cluster.token}`, 'content-type': 'application/json' },
            body: '{}',
          });
          const body = (await res.json()) as { ok?: boolean; message?: string };
          if (body.ok !== true) throw new Error(`switchover failed: ${body.message ?? res.status}`);
        }),
      );
      progress(`pgdeck switchover ${i + 1}/${switchovers}: window ${windows.at(-1)?.toFixed(0)} ms`);
      primary = await cluster.waitHealthy();
    }
    if (windows.length > 0) {
      put(out, `${tag}switchover_window`, windows);
      notes.push(
        `pgdeck ${synchronous ? 'sync' : 'async'} switchover windows (ms): ${windows.map((r) => r.toFixed(0)).join(', ')}`,
      );
    }
    await sleep(1000);
    await probe.stop();
    out[`${tag}lost_acked_writes`] = lostWrites(probe.attempts, await surviving(cluster.members.map(pgServer))).length;
    out[`${tag}acked_writes`] = probe.attempts.filter((a) => a.ok).length;
  } finally {
    await cluster.stop();
  }
  return out;
}

async function patroniRun(
  etcd: EtcdServer,
  segment: { walSegmentSizeMb?: number },
  kills: number,
  switchovers: number,
  notes: string[],
): Promise<Record<string, number>> {
  const cluster: PatroniCluster = await startPatroniCluster({
    etcdEndpoint: etcd.endpoint,
    members: 3,
    timing: patroniDefaults,
    synchronous: false,
    ...segment,
  });
  const out: Record<string, number> = {};
  const healthyLeader = async (): Promise<string> => {
    const deadline = Date.now() + 120_000;
    for (;;) {
      const leader = await cluster.leader().catch(() => null);
      if (
        leader !== null &&
        (await streamingReplicas(pgServer(cluster.members.find((m) => m.name === leader)!))) ===
          cluster.members.length - 1
      )
        return leader;
      if (Date.now() > deadline) throw new Error('Patroni has no leader with every replica streaming');
      await sleep(200);
    }
  };
  try {
    let leader = await healthyLeader();
    const probe = startWriteProbe(cluster.hosts, cluster.ports);
    const rtos: number[] = [];
    for (let i = 0; i < kills; i++) {
      await sleep(3000 + Math.random() * patroniDefaults.loopWait * 1000);
      const member = cluster.members.find((m) => m.name === leader)!;
      const killAt = Date.now();
      member.crash();
      rtos.push(await awaitRecovery(probe, killAt, member.pgPort, 120_000));
      progress(`patroni kill ${i + 1}/${kills}: RTO ${rtos.at(-1)?.toFixed(0)} ms`);
      await member.start();
      await sleep(5000);
      leader = await healthyLeader();
    }
    put(out, 'kill_rto', rtos);
    notes.push(
      `Patroni (ttl ${patroniDefaults.ttl}, loop_wait ${patroniDefaults.loopWait}) kill RTOs (ms): ${rtos.map((r) => r.toFixed(0)).join(', ')}`,
    );
    const windows: number[] = [];
    for (let i = 0; i < switchovers; i++) {
      windows.push(await switchoverWindow(probe, () => cluster.switchover()));
      progress(`patroni switchover ${i + 1}/${switchovers}: window ${windows.at(-1)?.toFixed(0)} ms`);
      await sleep(5000);
      leader = await healthyLeader();
    }
    put(out, 'switchover_window', windows);
    notes.push(`Patroni switchover windows (ms): ${windows.map((r) => r.toFixed(0)).join(', ')}`);
    await sleep(1000);
    await probe.stop();
    out.lost_acked_writes = lostWrites(probe.attempts, await surviving(cluster.members.map(pgServer))).length;
    out.acked_writes = probe.attempts.filter((a) => a.ok).length;
  } finally {
    await cluster.destroy();
  }
  return out;
}

/** Both cores busy for `ms`; counts primary changes and failover history entries (any is spurious). */
async function soak(etcd: EtcdServer, ms: number, notes: string[]): Promise<Record<string, number>> {
  const cluster = await startFailoverCluster({ etcd, cluster: 'bench-soak', pgParameters: { fsync: 'on' } });
  const burners: ChildProcess[] = [];
  try {
    const primary = await cluster.waitHealthy();
    const probe = startWriteProbe(
      cluster.members.map(() => '127.0.0.1').join(','),
      cluster.members.map((m) => m.pgPort).join(','),
    );
    for (let i = 0; i < 2; i++) burners.push(spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
    const started = Date.now();
    let changes = 0;
    let last = primary;
    while (Date.now() - started < ms) {
      await sleep(1000);
      const now = await cluster.primary().catch(() => null);
      if (now !== null && now !== last) {
        changes += 1;
        last = now;
      }
    }
    for (const b of burners) b.kill('SIGKILL');
    await probe.stop();
    const res = await fetch(`${cluster.member(last).apiUrl}/history`);
    const history = ((await res.json()) as { history: unknown[] }).history;
    const gaps = probe.attempts.filter((a) => !a.ok).length;
    notes.push(
      `soak: ${Math.round(ms / 1000)} s with both cores saturated by two busy loops; ${probe.attempts.length} write attempts, ${gaps} failed; primary changes seen ${changes}; history entries ${history.length}`,
    );
    return {
      soak_seconds: ms / 1000,
      soak_spurious_failovers: Math.max(changes, history.length),
      soak_failed_writes: gaps,
      soak_writes: probe.attempts.length,
    };
  } finally {
    for (const b of burners) b.kill('SIGKILL');
    await cluster.stop();
  }
}

export async function run(options: BenchOptions): Promise<BenchResult> {
  const result = newResult('failover');
  const kills = options.quick ? 2 : 5;
  const segment = walSegmentSize(options.args);
  const etcd = await startEtcd();
  try {
    Object.assign(result.metrics, await pgdeckRun(etcd, segment, kills, false, kills, kills, result.notes));
    Object.assign(result.metrics, await pgdeckRun(etcd, segment, kills, true, 0, kills, result.notes));
    result.peers['patroni-3.0.2-defaults'] = await patroniRun(etcd, segment, kills, kills, result.notes);
    if (options.args.includes('--soak'))
      Object.assign(result.metrics, await soak(etcd, options.quick ? 60_000 : 600_000, result.notes));
  } finally {
    await etcd.stop();
  }
  if (segment.walSegmentSizeMb !== undefined)
    result.notes.push(`both systems bootstrapped with initdb --wal-segsize=${segment.walSegmentSizeMb} (MB)`);
  result.notes.push(
    'targets (pgdeck defaults): kill RTO median <= 1 s; cut-off RTO <= 5 s; switchover window <= 0.3 s; 0 lost acknowledged writes in synchronous mode; 0 spurious failovers in the soak',
  );
  return result;
}
