import { Client } from 'pg';
import { readFileSync } from 'node:fs';
import { afterEach } from 'vitest';
import { startWriteProbe, type Attempt, type WriteProbe } from '../../src/lab/workload/write-probe.js';
import type { HistoryEntry } from '../../src/agents/failover/types.js';
import {
  startFailoverCluster,
  type FailoverCluster,
  type FailoverClusterOptions,
} from '../../src/lab/procs/failover-cluster.js';

/** Starts a fresh failover cluster per test (real etcd, PostgreSQL and daemons); all stopped after each test. */
export function failoverClusters(): (options?: FailoverClusterOptions) => Promise<FailoverCluster> {
  const started: FailoverCluster[] = [];
  const probes: WriteProbe[] = [];
  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail') for (const c of started) printDaemonLogs(c);
    await Promise.all(probes.splice(0).map((p) => p.stop()));
    await Promise.all(started.splice(0).map((c) => c.stop()));
  });
  return async (options) => {
    const cluster = await startFailoverCluster(options);
    started.push(cluster);
    return cluster;
  };
}

/** A failed test prints the tail of each daemon's log: the CI log then shows what the daemons decided. */
function printDaemonLogs(cluster: FailoverCluster, lines = 60): void {
  for (const m of cluster.members) {
    let text: string;
    try {
      text = readFileSync(m.logFile, 'utf8');
    } catch {
      continue;
    }
    const tail = text.trimEnd().split('\n').slice(-lines).join('\n');
    process.stderr.write(`--- last ${lines} lines of ${m.name}'s daemon log ---\n${tail}\n`);
  }
}

export function probeOf(cluster: FailoverCluster): WriteProbe {
  return startWriteProbe(
    cluster.members.map(() => '127.0.0.1').join(','),
    cluster.members.map((m) => m.pgPort).join(','),
  );
}

export async function until<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false>,
  timeoutMs: number,
  intervalMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => null);
    if (value !== null && value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * A new primary other than `old`, once one answers `/primary`. Its timeout names what each daemon last
 * decided and the newest history entries: the end of a CI log, where the error is printed, then says why.
 */
export async function newPrimary(cluster: FailoverCluster, old: string, timeoutMs: number): Promise<string> {
  try {
    return await until(
      `a primary other than ${old}`,
      async () => {
        const p = await cluster.primary();
        return p !== null && p !== old ? p : null;
      },
      timeoutMs,
      10,
    );
  } catch (error) {
    const decided = await Promise.all(
      cluster.members.map(async (m) => `${m.name}: ${await state(cluster, m.name).then((s) => s['summary'], String)}`),
    );
    const recent = (await history(cluster).catch(() => []))
      .slice(-3)
      .map((h) => `${h.kind} ${h.outcome}: ${h.message}`);
    throw new Error(
      `${(error as Error).message}; last decisions: ${decided.join(' | ')}; history: ${recent.join(' | ')}`,
      { cause: error },
    );
  }
}

export async function history(cluster: FailoverCluster): Promise<HistoryEntry[]> {
  for (const m of cluster.members) {
    const res = await fetch(`${m.apiUrl}/history`, { signal: AbortSignal.timeout(1000) }).catch(() => null);
    if (res?.status === 200) return ((await res.json()) as { history: HistoryEntry[] }).history;
  }
  return [];
}

export async function invoke(
  cluster: FailoverCluster,
  member: string,
  action: string,
  args: Record<string, unknown>,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${cluster.member(member).apiUrl}/actions/${action}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${cluster.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(args),
    signal: AbortSignal.timeout(60_000),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

export async function state(cluster: FailoverCluster, member: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${cluster.member(member).apiUrl}/state`, {
    headers: { authorization: `Bearer ${cluster.token}` },
    signal: AbortSignal.timeout(1000),
  });
  return (await res.json()) as Record<string, unknown>;
}

/** The probe rows that exist on `member` (its postgres). */
export async function survivingSeqs(cluster: FailoverCluster, member: string): Promise<Set<number>> {
  const client = new Client({
    host: '127.0.0.1',
    port: cluster.member(member).pgPort,
    user: 'postgres',
    database: 'postgres',
  });
  await client.connect();
  try {
    const res = await client.query<{ seq: string }>('SELECT seq FROM probe');
    return new Set(res.rows.map((r) => Number(r.seq)));
  } finally {
    await client.end();
  }
}

/** Writes acknowledged by `port` that ended after `t`: proof of a second writable primary when non-empty. */
export function acksAfter(attempts: readonly Attempt[], port: number, t: number): Attempt[] {
  return attempts.filter((a) => a.ok && a.port === port && a.end > t);
}

export function firstAck(attempts: readonly Attempt[], port: number, after: number): Attempt | undefined {
  return attempts.find((a) => a.ok && a.port === port && a.start >= after);
}
