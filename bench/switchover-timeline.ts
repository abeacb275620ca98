import { loadavg } from 'node:os';
import { startEtcd, type EtcdServer } from '../src/lab/procs/etcd.js';
import { startFailoverCluster } from '../src/lab/procs/failover-cluster.js';
import { startWriteProbe, unavailabilityWindow } from '../src/lab/workload/write-probe.js';
import { mergedLog, switchoverPhases, type SwitchoverPhases } from './lib/switchover-timeline.js';
import { newResult, type BenchOptions, type BenchResult } from './report.js';

/**
 * `npm run bench -- switchover-timeline [--quick] [--sync]`: the failover bench's switchover (three
 * pgdeck daemons, fsync on, the libpq write probe), with each step dated from the daemons' and the
 * servers' logs: where the window goes. `--wal-segsize=N`: initdb's WAL segment size (MB); `--trace`
 * prints every member's log lines after each request, merged. Prints each switchover's phases (ms after the request) and
 * the load average at its start; metrics are the medians.
 */
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const progress = (message: string): void => void process.stderr.write(`[timeline] ${message}\n`);

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

interface TimelineOptions {
  readonly synchronous: boolean;
  readonly count: number;
  readonly trace: boolean;
  readonly walSegmentSizeMb: number | undefined;
}

async function timelines(etcd: EtcdServer, o: TimelineOptions): Promise<SwitchoverPhases[]> {
  const cluster = await startFailoverCluster({
    etcd,
    cluster: o.synchronous ? 'timeline-sync' : 'timeline',
    synchronous: o.synchronous,
    ...(o.walSegmentSizeMb === undefined ? {} : { walSegmentSizeMb: o.walSegmentSizeMb }),
    pgParameters: { fsync: 'on', log_line_prefix: "'%m [%p] '" },
  });
  const out: SwitchoverPhases[] = [];
  try {
    let primary = await cluster.waitHealthy();
    const probe = startWriteProbe(
      cluster.members.map(() => '127.0.0.1').join(','),
      cluster.members.map((m) => m.pgPort).join(','),
    );
    for (let i = 0; i < o.count; i++) {
      await sleep(1500);
      const load = loadavg()[0]!;
      const from = Date.now();
      const res = await fetch(`${cluster.member(primary).apiUrl}/actions/switchover`, {
        method: 'POST',
        headers: { authorization: `Bearer ${cluster.token}`, 'content-type': 'application/json' },
        body: '{}',
      });
      const body = (await res.json()) as { ok?: boolean; message?: string };
      if (body.ok !== true) throw new Error(`switchover failed: ${body.message ?? res.status}`);
      await sleep(1500);
      const window = unavailabilityWindow(probe.attempts, from, Date.now());
      const next = await cluster.waitHealthy();
      const phases = { load1: load, window, ...switchoverPhases(cluster.members, probe.attempts, from, primary, next) };
      out.push(phases);
      progress(
        `${o.synchronous ? 'sync' : 'async'} ${primary} -> ${next}: ${Object.entries(phases)
          .map(([k, v]) => `${k}=${v === null ? '-' : v.toFixed(k === 'load1' ? 2 : 0)}`)
          .join(' ')}`,
      );
      if (o.trace) progress(`merged log after the request:\n${mergedLog(cluster.members, from).join('\n')}`);
      primary = next;
    }
    await probe.stop();
  } finally {
    await cluster.stop();
  }
  return out;
}

export async function run(options: BenchOptions): Promise<BenchResult> {
  const result = newResult('switchover-timeline');
  const count = options.quick ? 3 : 8;
  const segment = options.args.find((a) => a.startsWith('--wal-segsize='));
  const walSegmentSizeMb = segment === undefined ? undefined : Number(segment.slice('--wal-segsize='.length));
  const etcd = await startEtcd();
  try {
    for (const synchronous of options.args.includes('--sync') ? [false, true] : [false]) {
      const trace = options.args.includes('--trace');
      const runs = await timelines(etcd, { synchronous, count, trace, walSegmentSizeMb });
      const tag = synchronous ? 'sync_' : '';
      for (const key of Object.keys(runs[0] ?? {})) {
        const values = runs.map((r) => r[key]).filter((v): v is number => v !== null && v !== undefined);
        if (values.length > 0) result.metrics[`${tag}${key}_median_ms`] = median(values);
      }
      result.notes.push(
        ...runs.map(
          (r, i) =>
            `${tag}run ${i + 1}: ${Object.entries(r)
              .map(([k, v]) => `${k}=${v ?? '-'}`)
              .join(' ')}`,
        ),
      );
    }
  } finally {
    await etcd.stop();
  }
  return result;
}
