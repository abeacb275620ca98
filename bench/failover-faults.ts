import { startEtcd } from '../src/lab/procs/etcd.js';
import { startHaproxy } from '../src/lab/procs/haproxy.js';
import { createBridge, netnsUnavailable, type NetnsBridge } from '../src/lab/procs/netns.js';
import { patroniDefaults, type PatroniTiming } from '../src/lab/procs/patroni.js';
import { lostWrites, startWriteProbe, unavailabilityWindow, type Attempt } from '../src/lab/workload/write-probe.js';
import { surviving } from './failover.js';
import { FAULTS, runEpisode, unsupported, type Episode, type FaultName } from './lib/fault-episodes.js';
import { patroniSystem, pgdeckSystem, type FaultSystem } from './lib/fault-systems.js';
import { doubleWritable, withInsideView, type WritableSample } from './lib/two-writable.js';
import { startWritableSampler } from './lib/writable-sampler.js';
import { newResult, type BenchOptions, type BenchResult } from './report.js';

/**
 * `npm run bench -- failover-faults [--quick]`: the fault matrix of issue 15. Each fault (kill -9 of
 * the primary's node, switchover, its postgres killed 50 ms into a switchover, a double fault, the
 * primary's daemon frozen 8 s, the primary's node frozen, the primary's node cut off the network,
 * etcd frozen 10 s) runs against pgdeck's
 * daemons and against Debian's Patroni 3.0.2 twice (defaults; ttl 5, loop_wait 1, retry_timeout 2),
 * all synchronous, three members, one etcd, in one run, under the libpq write probe (INSERT every
 * 20 ms, multi-host, target_session_attrs=read-write), a second one through haproxy's write port
 * (`GET /primary`, inter 1s fall 2 rise 1), and a sampler asking every member every 50 ms whether it
 * would take a write. As root with iproute2 every member of every system runs in its own network
 * namespace on one bridge (etcd on the host's address there), so the partition is a real cut; without
 * them everything is on loopback and the partition is not run. Each fault once with --quick, three
 * times without.
 */
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const progress = (message: string): void => void process.stderr.write(`[failover-faults] ${message}\n`);

const AGGRESSIVE: PatroniTiming = { ttl: 5, loopWait: 1, retryTimeout: 2 };
const PEERS = {
  pgdeck: 'pgdeck',
  defaults: 'patroni-3.0.2-defaults',
  aggressive: 'patroni-3.0.2-ttl5-loop1-retry2',
} as const;

/** haproxy's check interval, as the issue asks (fall 2 rise 1 are haproxyConfig's). */
const HAPROXY_CHECK_MS = 1000;
/** The probe through haproxy numbers its writes from here on, apart from the multi-host probe's. */
const HAPROXY_FIRST_SEQ = 1_000_000_000;

type Row = Partial<
  Record<
    | 'rto_median_s'
    | 'gap_max_s'
    | 'haproxy_gap_max_s'
    | 'lost_acked_writes'
    | 'acked_writes'
    | 'haproxy_lost_acked_writes'
    | 'haproxy_acked_writes'
    | 'avoidable_failovers'
    | 'two_writable_samples'
    | 'two_writable_longest_ms'
    | 'fence_lead_min_ms',
    number
  >
>;

/** What a system's run recorded, start to end. */
interface Recorded {
  readonly attempts: readonly Attempt[];
  readonly proxied: readonly Attempt[];
  readonly samples: readonly WritableSample[];
  readonly kept: ReadonlySet<number>;
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/**
 * Each attempt and each sampler round belongs to the episode whose window (the end of the one before,
 * its own end] holds its start.
 */
function rows(episodes: ReadonlyMap<FaultName, Episode[]>, recorded: Recorded): Map<FaultName, Row> {
  const { attempts, proxied, samples, kept } = recorded;
  const all = [...episodes.entries()]
    .flatMap(([fault, list]) => list.map((e) => ({ fault, e })))
    .sort((a, b) => a.e.to - b.e.to);
  const out = new Map<FaultName, Row>();
  let start = 0;
  for (const { fault, e } of all) {
    const inWindow = (a: Attempt): boolean => a.start > start && a.start <= e.to;
    const mine = [...attempts.filter(inWindow), ...(e.inside?.attempts ?? [])];
    const mineProxied = proxied.filter(inWindow);
    const seen = e.inside === undefined ? samples : withInsideView(samples, e.inside.member, e.inside.samples);
    const two = doubleWritable(seen, start, e.to);
    start = e.to;
    const row = out.get(fault) ?? {
      lost_acked_writes: 0,
      acked_writes: 0,
      haproxy_lost_acked_writes: 0,
      haproxy_acked_writes: 0,
      avoidable_failovers: 0,
      gap_max_s: 0,
      haproxy_gap_max_s: 0,
      two_writable_samples: 0,
      two_writable_longest_ms: 0,
    };
    row.lost_acked_writes! += lostWrites(mine, kept).length;
    row.acked_writes! += mine.filter((a) => a.ok).length;
    row.haproxy_lost_acked_writes! += lostWrites(mineProxied, kept).length;
    row.haproxy_acked_writes! += mineProxied.filter((a) => a.ok).length;
    row.avoidable_failovers! += e.avoidable;
    row.gap_max_s = Math.max(row.gap_max_s!, e.gapMs / 1000);
    row.haproxy_gap_max_s = Math.max(row.haproxy_gap_max_s!, unavailabilityWindow(proxied, e.from, e.to) / 1000);
    row.two_writable_samples! += two.samples;
    row.two_writable_longest_ms = Math.max(row.two_writable_longest_ms!, two.longestMs);
    out.set(fault, row);
  }
  for (const [fault, list] of episodes) {
    const rtos = list.flatMap((e) => (e.rtoMs === null ? [] : [e.rtoMs]));
    if (rtos.length > 0) out.get(fault)!.rto_median_s = median(rtos) / 1000;
    const leads = list.flatMap((e) => (e.fenceLeadMs === undefined ? [] : [e.fenceLeadMs]));
    if (leads.length > 0) out.get(fault)!.fence_lead_min_ms = Math.min(...leads);
  }
  return out;
}

/** The comma-separated values of `--NAME=a,b`, or null when the flag is not given. */
function listFlag(args: readonly string[], name: string): string[] | null {
  const flag = args.find((a) => a.startsWith(`--${name}=`));
  return flag === undefined
    ? null
    : flag
        .slice(name.length + 3)
        .split(',')
        .filter(Boolean);
}

const firstLine = (error: unknown): string => (error as Error).message.split('\n')[0]!;

async function measure(
  system: FaultSystem,
  faults: readonly FaultName[],
  reps: number,
  notes: string[],
): Promise<Map<FaultName, Row>> {
  const sampler = startWritableSampler(
    system.members.map((m) => ({ name: m, host: system.host(m), port: system.pgPort(m) })),
  );
  const probe = system.probe();
  const proxy = await startHaproxy(
    system.members.map((m) => ({
      name: m,
      host: system.host(m),
      port: system.pgPort(m),
      checkPort: system.apiPort(m),
    })),
    { checkIntervalMs: HAPROXY_CHECK_MS },
  ).catch(async (error: unknown) => {
    await Promise.all([probe.stop(), sampler.stop()]);
    throw error;
  });
  const proxied = startWriteProbe('127.0.0.1', String(proxy.writePort), 20, { firstSeq: HAPROXY_FIRST_SEQ });
  const episodes = new Map<FaultName, Episode[]>();
  try {
    let primary: string | null = await system.healthy();
    for (const fault of faults) {
      const why = unsupported(system, fault);
      if (why !== null) {
        notes.push(`${system.name}: ${fault} not run: ${why}`);
        continue;
      }
      for (let i = 0; i < reps && primary !== null; i++) {
        await sleep(1500 + Math.random() * 1000);
        const episode = await runEpisode(system, probe, fault, primary).catch((error: unknown) => {
          notes.push(`${system.name}: ${fault} ${i + 1}/${reps} failed: ${firstLine(error)}`);
          return null;
        });
        // a system that does not come back keeps what was measured up to here: the rest is not run
        primary = await system.healthy().catch((error: unknown) => {
          notes.push(
            `${system.name}: stopped after ${fault} ${i + 1}/${reps}, never healthy again: ${firstLine(error)}`,
          );
          return null;
        });
        if (episode === null) continue;
        episodes.set(fault, [...(episodes.get(fault) ?? []), episode]);
        progress(
          `${system.name} ${fault} ${i + 1}/${reps}: rto ${episode.rtoMs?.toFixed(0) ?? '-'} ms, gap ${episode.gapMs.toFixed(0)} ms, through haproxy ${unavailabilityWindow(proxied.attempts, episode.from, episode.to).toFixed(0)} ms, two writable ${doubleWritable(sampler.samples, episode.from, episode.to).samples}, avoidable ${episode.avoidable}${episode.fenceLeadMs === undefined ? '' : `, fence lead ${episode.fenceLeadMs.toFixed(0)} ms`}`,
        );
      }
    }
    await sleep(1000);
  } finally {
    await Promise.all([probe.stop(), proxied.stop(), sampler.stop()]);
    await proxy.stop();
  }
  const kept = await surviving(system.members.map((m) => ({ host: system.host(m), port: system.pgPort(m) })));
  const whole = doubleWritable(sampler.samples, 0, Number.POSITIVE_INFINITY);
  notes.push(
    `${system.name}: ${sampler.samples.length} sampler rounds over the whole run, ${whole.samples} with two writable servers (longest ${whole.longestMs} ms)`,
  );
  return rows(episodes, { attempts: probe.attempts, proxied: proxied.attempts, samples: sampler.samples, kept });
}

function cell(row: Row | undefined): string {
  if (row === undefined) return 'not run';
  const rto = row.rto_median_s === undefined ? '–' : row.rto_median_s.toFixed(3);
  const two = `${row.two_writable_samples} (${row.two_writable_longest_ms} ms)`;
  return `${rto} / ${row.gap_max_s!.toFixed(3)} / ${row.haproxy_gap_max_s!.toFixed(3)} / ${row.lost_acked_writes}/${row.acked_writes} / ${row.avoidable_failovers} / ${two}`;
}

const CELL =
  'RTO median s / longest write gap s / through haproxy s / lost/acked / avoidable failovers / two-writable rounds (longest)';

/** Faults down, systems across; each cell as CELL says. */
function matrix(results: Record<string, Map<FaultName, Row>>, faults: readonly FaultName[]): string {
  const names = Object.keys(results);
  return [
    `| fault | ${names.join(' | ')} |`,
    `|---|${names.map(() => '---|').join('')}`,
    ...faults.map((f) => `| ${f} | ${names.map((n) => cell(results[n]!.get(f))).join(' | ')} |`),
  ].join('\n');
}

/**
 * `--systems=pgdeck,defaults,aggressive` and `--faults=kill,double-fault` run a part of the matrix
 * (every system and every fault without them).
 */
export async function run(options: BenchOptions): Promise<BenchResult> {
  const result = newResult('failover-faults');
  const reps = options.quick ? 1 : 3;
  const systems = listFlag(options.args, 'systems');
  const wanted = listFlag(options.args, 'faults');
  const unknown = [
    ...(systems ?? []).filter((s) => !(s in PEERS)),
    ...(wanted ?? []).filter((f) => !FAULTS.includes(f as FaultName)),
  ];
  if (unknown.length > 0) throw new Error(`unknown system or fault: ${unknown.join(', ')}`);
  const faults = FAULTS.filter((f) => wanted === null || wanted.includes(f));
  const placement = netnsUnavailable();
  const network: NetnsBridge | undefined = placement === null ? createBridge(3) : undefined;
  const etcd = await startEtcd({ clientHost: network?.hostAddress }).catch((error: unknown) => {
    network?.remove();
    throw error;
  });
  result.notes.push(
    network === undefined
      ? `every member on loopback (${placement}): the partition is not run`
      : `every member (daemon and postgres) in its own network namespace on bridge ${network.name} (${network.cidr}), etcd on the host's address there; the probes, the sampler and haproxy run on the host`,
  );
  const results: Record<string, Map<FaultName, Row>> = {};
  const starts: [keyof typeof PEERS, () => Promise<FaultSystem>][] = [
    ['pgdeck', () => pgdeckSystem(etcd, network)],
    ['defaults', () => patroniSystem(etcd, PEERS.defaults, patroniDefaults, network)],
    ['aggressive', () => patroniSystem(etcd, PEERS.aggressive, AGGRESSIVE, network)],
  ];
  try {
    for (const [key, start] of starts) {
      if (systems !== null && !systems.includes(key)) continue;
      const name = PEERS[key];
      const system = await start();
      try {
        results[name] = await measure(system, faults, reps, result.notes);
      } catch (error) {
        result.notes.push(`${name}: stopped early: ${(error as Error).message}`);
      } finally {
        await system.stop();
      }
    }
  } finally {
    await etcd.stop();
    network?.remove();
  }
  for (const [name, faults] of Object.entries(results)) {
    const target = name === PEERS.pgdeck ? result.metrics : (result.peers[name] = {});
    for (const [fault, row] of faults)
      for (const [metric, value] of Object.entries(row)) target[`${fault.replaceAll('-', '_')}_${metric}`] = value;
  }
  process.stdout.write(`\n### fault matrix (${CELL})\n\n${matrix(results, faults)}\n`);
  result.notes.push(
    `each fault ${reps}× per system, synchronous mode everywhere; RTO: fault to the first write acknowledged by another server (crash during switchover: by any server; switchover: the write gap; cut-off and partition: by a second probe, started before the fault, that connects only to the other members)`,
    "partition fence_lead_min_ms: the least time, over its episodes, from the old primary's first round not writable (seen from inside its namespace) to the start of the new primary's first acknowledged write (negative: the old one was still writable then)",
    "partition: the primary's veth to the bridge taken down until it no longer takes writes seen from inside its namespace (at most 60 s), then up again; inside it a probe writes to it alone (its acknowledged writes are counted in lost/acked) and a sampler asks it every 50 ms whether it is out of recovery (its answers count in the two-writable rounds)",
    'avoidable failovers: the primary changed after a frozen daemon (8 s) or an etcd outage (etcd SIGSTOPped 10 s)',
    `through haproxy: the longest gap between acknowledged writes of a probe through haproxy 2.6's write port (option httpchk GET /primary on each daemon's API, inter ${HAPROXY_CHECK_MS} ms fall 2 rise 1, on-marked-down shutdown-sessions), from the fault until the cluster was healthy again; lost writes through it are haproxy_lost_acked_writes`,
    "two-writable rounds: every 50 ms each member is asked over its own session whether it is out of recovery with default_transaction_read_only off (pgdeck's remote fence sets it; its own fence stops postgres; Patroni restarts a demoted primary as a standby); a member that does not answer the round (frozen, down) counts as not writable; longest: from the first such round to the next round without",
  );
  return result;
}
