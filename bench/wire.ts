import { loadavg } from 'node:os';
import type { FailoverState } from '../src/agents/failover/types.js';
import { startEtcd } from '../src/lab/procs/etcd.js';
import { startFailoverCluster, type FailoverCluster } from '../src/lab/procs/failover-cluster.js';
import { establishedConnections, rawNonReader, type RawReader } from '../test/helpers/raw-reader.js';
import {
  cpuMs,
  loopLag,
  median,
  percentile,
  heapOf,
  ownLoopLag,
  rssBytes,
  sampleHealth,
  sampleHealthApart,
  subscribers,
  type HealthSample,
  type SubscriberReport,
} from './lib/wire-load.js';
import { recoveryTime, startWriteProbe, type WriteProbe } from '../src/lab/workload/write-probe.js';
import { newResult, type BenchOptions, type BenchResult } from './report.js';
import { INSPECT_ON_SIGNAL, collectGarbage } from './lib/inspector-gc.js';

/**
 * `npm run bench -- wire [--quick]`: the wire under load, on a real 3-node failover cluster (etcd,
 * PostgreSQL, `pgdeck --agent failover` daemons from this tree). Rounds alternate: the primary is
 * killed with nobody attached, then with 200 `/events` subscribers (a child process) connecting to
 * the leader daemon at the moment of the kill. Each round samples the leader's `/health` every
 * ~20 ms (new connection each) and measures the RTO as bench/failover.ts does (libpq write probe:
 * kill to the first INSERT acknowledged by another server). Then 50 raw sockets that never read
 * ask the leader for `/events` (fresh, then resuming from seq 1): how long until the daemon drops
 * them, and its RSS (from /proc) before, at the peak and after.
 */
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const progress = (message: string): void => void process.stderr.write(`[wire bench] ${message}\n`);
const SUBSCRIBERS = 200;
const NON_READERS = 50;
/** serveAgent's default drain timeout: what the daemons run with. */
const DRAIN_TIMEOUT_MS = 10_000;

async function leaderOf(cluster: FailoverCluster, primary: string): Promise<string> {
  const res = await fetch(`${cluster.member(primary).apiUrl}/state`, {
    headers: { authorization: `Bearer ${cluster.token}` },
  });
  const state = ((await res.json()) as { state?: FailoverState }).state;
  const leader = state?.leader?.name;
  if (leader === undefined) throw new Error(`${primary} names no leader`);
  return leader;
}

async function awaitRecovery(probe: WriteProbe, killAt: number, port: number): Promise<number> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const rto = recoveryTime(probe.attempts, killAt, port);
    if (rto !== null) return rto;
    if (Date.now() > deadline) throw new Error('no write acknowledged by another server 60 s after the kill');
    await sleep(20);
  }
}

interface Round {
  readonly rto: number;
  /** Sampled from a process of its own (what counts). */
  readonly health: HealthSample[];
  /** Sampled at the same time from this process, as the bench did before, beside this process's own loop lag. */
  readonly healthInProcess: HealthSample[];
  readonly benchLoopLagMs: number;
  readonly subscribers?: SubscriberReport;
  readonly bytesPerS?: number;
  /** From the kill until every subscriber had its answer (a stream or a 503). */
  readonly answeredMs?: number;
  /** CPU the leader daemon used in the 2 s after the kill. */
  readonly leaderCpuMs: number;
  /** The leader daemon's own event-loop delay from the kill to the end of the round. */
  readonly lag: { readonly maxMs: number; readonly p99Ms: number };
}

const ANSWER_TIMEOUT_MS = 60_000;

async function allAnswered(
  subs: { latest(): SubscriberReport | undefined },
  n: number,
  since: number,
): Promise<number> {
  for (const deadline = Date.now() + ANSWER_TIMEOUT_MS; (subs.latest()?.answered ?? 0) < n; await sleep(50))
    if (Date.now() > deadline)
      throw new Error(`${n} subscribers not all answered ${ANSWER_TIMEOUT_MS / 1000} s after the kill`);
  return Date.now() - since;
}

/** Kills the primary (with `load` subscribers connecting to the leader at that moment); returns once healthy again. */
async function killRound(cluster: FailoverCluster, probe: WriteProbe, primary: string, load: number): Promise<Round> {
  const leader = await leaderOf(cluster, primary);
  const subs = load > 0 ? await subscribers(cluster.member(leader).apiUrl, cluster.token, load) : undefined;
  const apart = await sampleHealthApart(cluster.member(leader).apiUrl);
  const sampler = sampleHealth(cluster.member(leader).apiUrl);
  const pid = cluster.member(leader).daemonPid() ?? Number.NaN;
  await sleep(1000);
  await loopLag(cluster.member(leader).apiUrl);
  const killAt = Date.now();
  const ownLag = ownLoopLag();
  const cpuBefore = cpuMs(pid);
  subs?.go();
  cluster.member(primary).killNode();
  const cpuAfter = sleep(2000).then(() => cpuMs(pid));
  const rto = await awaitRecovery(probe, killAt, cluster.member(primary).pgPort);
  const leaderCpuMs = (await cpuAfter) - cpuBefore;
  // A round is loaded only once every subscriber has its answer: on a busy machine the (niced) child may connect late.
  const answeredMs = subs === undefined ? undefined : await allAnswered(subs, load, killAt);
  const bytesBefore = subs?.latest()?.bytes ?? 0;
  await sleep(3000);
  const bytesPerS = subs === undefined ? undefined : (((subs.latest()?.bytes ?? 0) - bytesBefore) / 3000) * 1000;
  const lag = await loopLag(cluster.member(leader).apiUrl);
  const benchLoopLagMs = ownLag.stop();
  const healthInProcess = (await sampler.stop()).filter((s) => s.at >= killAt);
  const health = (await apart.stop()).filter((s) => s.at >= killAt);
  const report = await subs?.stop();
  progress(
    `${load === 0 ? 'unloaded' : `${load} subscribers`}: leader ${leader}, RTO ${rto.toFixed(0)} ms, /health max ${Math.max(...health.map((h) => h.ms)).toFixed(1)} ms (in-process sampler ${Math.max(...healthInProcess.map((h) => h.ms)).toFixed(1)} ms, this process's loop lag max ${benchLoopLagMs.toFixed(0)} ms)` +
      (report === undefined
        ? ''
        : `, accepted ${report.accepted}, refused ${report.refused}, all answered ${answeredMs?.toFixed(0) ?? '?'} ms after the kill`),
  );
  await cluster.member(primary).startDaemon();
  return {
    rto,
    health,
    healthInProcess,
    benchLoopLagMs,
    leaderCpuMs,
    lag,
    ...(report === undefined ? {} : { subscribers: report }),
    ...(bytesPerS === undefined ? {} : { bytesPerS }),
    ...(answeredMs === undefined ? {} : { answeredMs }),
  };
}

function healthMetrics(rounds: readonly Round[]): Record<string, number> {
  const all = rounds.flatMap((r) => r.health);
  const ms = all.map((h) => h.ms);
  const inProcess = rounds.flatMap((r) => r.healthInProcess).map((h) => h.ms);
  const worst = all.reduce((a, b) => (b.ms > a.ms ? b : a));
  return {
    rto_median_ms: median(rounds.map((r) => r.rto)),
    rto_max_ms: Math.max(...rounds.map((r) => r.rto)),
    health_max_ms: Math.max(...ms),
    health_p99_ms: percentile(ms, 99),
    health_samples: all.length,
    health_failed: all.filter((h) => !h.ok).length,
    health_worst_connect_ms: worst.connectMs ?? Number.NaN,
    health_worst_response_ms: worst.responseMs ?? Number.NaN,
    health_worst_prober_lag_ms: worst.selfLagMs ?? Number.NaN,
    health_connect_max_ms: Math.max(...all.map((h) => h.connectMs ?? Number.NaN)),
    health_prober_lag_max_ms: Math.max(...all.map((h) => h.selfLagMs ?? Number.NaN)),
    health_inprocess_max_ms: Math.max(...inProcess),
    health_inprocess_p99_ms: percentile(inProcess, 99),
    bench_loop_lag_max_ms: Math.max(...rounds.map((r) => r.benchLoopLagMs)),
    leader_cpu_ms_2s: median(rounds.map((r) => r.leaderCpuMs)),
    leader_loop_lag_max_ms: Math.max(...rounds.map((r) => r.lag.maxMs)),
    leader_loop_lag_p99_ms: Math.max(...rounds.map((r) => r.lag.p99Ms)),
  };
}

/**
 * `count` raw non-readers on the leader: ms from connect to being dropped (NaN if kept past `limitMs`),
 * RSS, and the heap as read and after a full collection (`gc_before`, `gc_after`: what is retained).
 */
async function nonReaders(
  url: string,
  token: string,
  pid: number,
  logFile: string,
  count: number,
  headers: Record<string, string>,
  limitMs: number,
): Promise<{
  dropped: number[];
  kept: number;
  rss: { before: number; peak: number; after: number };
  heap: { before: Heap; gc_before: Heap; peak: Heap; after: Heap; late: Heap; gc_after: Heap };
}> {
  const before = median(await rssSeries(pid, 2000));
  const heapBefore = await heapOf(url);
  await collectGarbage(pid, logFile);
  const heapGcBefore = await heapOf(url);
  let heapPeak = heapBefore;
  const readers: RawReader[] = await Promise.all(
    Array.from({ length: count }, () => rawNonReader(url, token, headers)),
  );
  const droppedAt = new Map<RawReader, number>();
  let peak = before;
  const deadline = Date.now() + limitMs;
  while (droppedAt.size < readers.length && Date.now() < deadline) {
    await sleep(100);
    peak = Math.max(peak, rssBytes(pid));
    if (droppedAt.size === 0) heapPeak = await heapOf(url);
    const open = await establishedConnections();
    for (const r of readers) if (!droppedAt.has(r) && !open.has(r.key)) droppedAt.set(r, Date.now() - r.connectedAt);
  }
  for (const r of readers) r.close();
  await sleep(10_000);
  const after = median(await rssSeries(pid, 2000));
  const heapAfter = await heapOf(url);
  await sleep(20_000);
  const heapLate = await heapOf(url);
  await collectGarbage(pid, logFile);
  const heapGcAfter = await heapOf(url);
  return {
    dropped: [...droppedAt.values()],
    kept: readers.length - droppedAt.size,
    rss: { before, peak, after },
    heap: {
      before: heapBefore,
      gc_before: heapGcBefore,
      peak: heapPeak,
      after: heapAfter,
      late: heapLate,
      gc_after: heapGcAfter,
    },
  };
}

type Heap = Awaited<ReturnType<typeof heapOf>>;

async function rssSeries(pid: number, ms: number): Promise<number[]> {
  const out: number[] = [];
  for (const end = Date.now() + ms; Date.now() < end; await sleep(100)) out.push(rssBytes(pid));
  return out;
}

const mb = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10;

export async function run(options: BenchOptions): Promise<BenchResult> {
  const result = newResult('wire');
  const pairs = options.quick ? 2 : 4;
  const etcd = await startEtcd();
  // The daemons open their inspector on SIGUSR1, so the memory figures can be read after a full collection.
  process.env.NODE_OPTIONS = [process.env.NODE_OPTIONS, INSPECT_ON_SIGNAL].filter((o) => o !== undefined).join(' ');
  const cluster = await startFailoverCluster({ etcd, cluster: 'bench-wire' });
  let probe: WriteProbe | undefined;
  try {
    let primary = await cluster.waitHealthy();
    probe = startWriteProbe(
      cluster.members.map(() => '127.0.0.1').join(','),
      cluster.members.map((m) => m.pgPort).join(','),
    );
    const idle: Round[] = [];
    const loaded: Round[] = [];
    for (let i = 0; i < pairs * 2; i++) {
      await sleep(2000 + Math.random() * 1000);
      (i % 2 === 0 ? idle : loaded).push(await killRound(cluster, probe, primary, i % 2 === 0 ? 0 : SUBSCRIBERS));
      primary = await cluster.waitHealthy();
    }
    Object.assign(result.metrics, healthMetrics(loaded));
    result.peers['unloaded (same run)'] = healthMetrics(idle);
    result.metrics.rto_median_delta_ms =
      result.metrics.rto_median_ms! - result.peers['unloaded (same run)'].rto_median_ms!;
    const reports = loaded.flatMap((r) => (r.subscribers === undefined ? [] : [r.subscribers]));
    result.metrics.streams_accepted = median(reports.map((r) => r.accepted));
    result.metrics.streams_refused_503 = median(reports.map((r) => r.refused));
    result.metrics.first_snapshot_p99_ms = percentile(
      reports.flatMap((r) => r.firstSnapshotMs),
      99,
    );
    result.metrics.subscribers_all_answered_ms = median(loaded.map((r) => r.answeredMs ?? Number.NaN));
    result.metrics.stream_bytes_per_s = median(loaded.map((r) => r.bytesPerS ?? Number.NaN));
    result.notes.push(
      `RTOs (ms) unloaded: ${idle.map((r) => r.rto.toFixed(0)).join(', ')}; with ${SUBSCRIBERS} subscribers: ${loaded.map((r) => r.rto.toFixed(0)).join(', ')}`,
      `/health on the leader sampled every ~20 ms from the kill to 3 s after recovery; stream_bytes_per_s is what all accepted subscribers received together in those 3 s; leader_cpu_ms_2s is the CPU the leader daemon used in the 2 s after the kill (from /proc, 10 ms ticks); leader_loop_lag_* is the daemon's own event-loop delay (prom-client's monitorEventLoopDelay, 10 ms resolution, from its /metrics) from the kill to the end of the round, the worst round; it counts time the process waited for a CPU too`,
    );

    const leader = cluster.member(await leaderOf(cluster, primary));
    const pid = leader.daemonPid();
    if (pid === null) throw new Error(`the leader ${leader.name} has no daemon`);
    for (const [tag, headers, limit] of [
      ['fresh', {}, 120_000],
      ['resuming', { 'last-event-id': '1' }, 60_000],
    ] as const) {
      const got = await nonReaders(leader.apiUrl, cluster.token, pid, leader.logFile, NON_READERS, headers, limit);
      result.metrics[`nonreaders_${tag}_dropped`] = got.dropped.length;
      result.metrics[`nonreaders_${tag}_drop_p50_s`] = median(got.dropped) / 1000;
      result.metrics[`nonreaders_${tag}_drop_max_s`] = Math.max(...got.dropped) / 1000;
      result.metrics[`nonreaders_${tag}_rss_before_mb`] = mb(got.rss.before);
      result.metrics[`nonreaders_${tag}_rss_peak_mb`] = mb(got.rss.peak);
      result.metrics[`nonreaders_${tag}_rss_after_mb`] = mb(got.rss.after);
      for (const [when, heap] of Object.entries(got.heap)) {
        result.metrics[`nonreaders_${tag}_heap_used_${when}_mb`] = mb(heap.used);
        result.metrics[`nonreaders_${tag}_heap_total_${when}_mb`] = mb(heap.total);
        result.metrics[`nonreaders_${tag}_external_${when}_mb`] = mb(heap.external);
        result.metrics[`nonreaders_${tag}_rss_${when}_metrics_mb`] = mb(heap.rss);
      }
      progress(
        `${NON_READERS} ${tag} non-readers: ${got.dropped.length} dropped (p50 ${(median(got.dropped) / 1000).toFixed(1)} s), ${got.kept} kept past ${limit / 1000} s; RSS ${mb(got.rss.before)} -> ${mb(got.rss.peak)} -> ${mb(got.rss.after)} MB; heap used ${Object.values(
          got.heap,
        )
          .map((h) => mb(h.used))
          .join(' -> ')} MB, heap total ${Object.values(got.heap)
          .map((h) => mb(h.total))
          .join(' -> ')} MB, external ${Object.values(got.heap)
          .map((h) => mb(h.external))
          .join(
            ' -> ',
          )} MB (before, before after a full GC, first drop, 10 s after, 30 s after, 30 s after after a full GC)`,
      );
    }
    result.notes.push(
      `non-readers: ${NON_READERS} raw sockets that send GET /events and never read; "fresh" without Last-Event-ID (snapshot + 200-event tail), "resuming" with Last-Event-ID 1 (owed the whole ring); drop = seconds from connect until the daemon reset the connection; RSS after = 10 s after the last one closed; drain timeout ${DRAIN_TIMEOUT_MS / 1000} s, counted once the reader's receive window is full`,
      'the subscribers run in one child process at nice 10 on the same two cores as the cluster (in production they are elsewhere); the unloaded rounds have no such process',
      `machine shared with other jobs (load average ${loadavg()[0]!.toFixed(1)} at the end): timings are pessimistic`,
      'targets: /health max <= 100 ms under the burst; RTO median within 50 ms of the unloaded one; non-readers dropped and memory back to its baseline (heap_used_gc_after against heap_used_gc_before: what the daemon retains, read after a full collection through its inspector; the other heap figures include garbage not collected yet)',
    );
  } finally {
    await probe?.stop();
    await cluster.stop();
    await etcd.stop();
  }
  return result;
}
