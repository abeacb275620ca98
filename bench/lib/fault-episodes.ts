import {
  recoveryTime,
  startWriteProbe,
  unavailabilityWindow,
  type Attempt,
  type WriteProbe,
} from '../../src/lab/workload/write-probe.js';
import { startWritableSampler } from '../../test/helpers/writable-sampler.js';
import type { FaultSystem } from './fault-systems.js';
import type { InsideSample } from './two-writable.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One fault, once: what a client saw. `rtoMs` is null for faults that must cause no failover. */
export interface Episode {
  readonly rtoMs: number | null;
  /** The longest gap between two acknowledged writes from the fault until the cluster was healthy again. */
  readonly gapMs: number;
  /** A failover the fault did not call for (the primary changed). */
  readonly avoidable: number;
  /** Probe attempts between the fault and the end of the episode (lost writes are counted over these). */
  readonly from: number;
  readonly to: number;
  /**
   * A partition: how long before the new primary's first acknowledged write began the old one stopped
   * taking writes, seen from inside its namespace (negative: it was still writable then), in ms.
   */
  readonly fenceLeadMs?: number;
  /** A partition's view from inside the cut-off member's namespace: its own probe's writes and samples. */
  readonly inside?: {
    readonly member: string;
    readonly attempts: readonly Attempt[];
    readonly samples: readonly InsideSample[];
  };
}

export type FaultName =
  | 'kill'
  | 'switchover'
  | 'crash-during-switchover'
  | 'double-fault'
  | 'frozen-daemon'
  | 'cut-off'
  | 'partition'
  | 'etcd-outage';

export const FAULTS: readonly FaultName[] = [
  'kill',
  'switchover',
  'crash-during-switchover',
  'double-fault',
  'frozen-daemon',
  'cut-off',
  'partition',
  'etcd-outage',
];

/** How long the frozen daemon stays stopped (the 8 s) and how long etcd is frozen. */
const FREEZE_MS = 8000;
const ETCD_OUTAGE_MS = 10_000;
/** The cut-off's own probe numbers its writes from the episode's start in ms times this, apart from every other probe's. */
const CUT_OFF_SEQ_PER_MS = 1000;
/** A partition's probe inside the cut-off namespace numbers its writes this far above the others' probe. */
const INSIDE_SEQ_OFFSET = 500_000;
/** How long a partition may wait for the cut-off primary to stop taking writes before it is healed. */
const FENCE_WAIT_MS = 60_000;

/** Why a system cannot run a fault, or null when it can. */
export function unsupported(system: FaultSystem, fault: FaultName): string | null {
  switch (fault) {
    case 'double-fault':
      return system.leader === undefined ? 'no leader apart from the primary' : null;
    case 'partition':
      return system.netns === undefined ? 'its members do not run in network namespaces' : null;
    case 'kill':
    case 'switchover':
    case 'cut-off':
    case 'crash-during-switchover':
    case 'frozen-daemon':
    case 'etcd-outage':
      return null;
    default: {
      const never: never = fault;
      return never;
    }
  }
}

async function firstAck(
  probe: WriteProbe,
  after: number,
  excludePort: number | null,
  timeoutMs: number,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rto =
      excludePort === null
        ? (probe.attempts.find((a) => a.ok && a.start >= after)?.end ?? null)
        : recoveryTime(probe.attempts, after, excludePort);
    if (rto !== null) return excludePort === null ? rto - after : rto;
    if (Date.now() > deadline) throw new Error(`no write acknowledged ${timeoutMs} ms after the fault`);
    await sleep(20);
  }
}

/**
 * Cuts `primary`'s link to the bridge: RTO by a probe from the host over the others only; inside its
 * namespace a probe on it alone and a sampler of whether it is writable, both until the cluster is
 * healthy again. Heals once it no longer takes writes (fenced, seen from inside) or after FENCE_WAIT_MS.
 */
async function partition(
  system: FaultSystem,
  primary: string,
): Promise<{ from: number; rtoMs: number; fenceLeadMs: number; inside: NonNullable<Episode['inside']> }> {
  const node = system.netns!(primary);
  const [host, port] = [system.host(primary), system.pgPort(primary)];
  const firstSeq = Date.now() * CUT_OFF_SEQ_PER_MS;
  const others = system.probe(
    system.members.filter((m) => m !== primary),
    firstSeq,
  );
  const probe = startWriteProbe(host, String(port), 20, { firstSeq: firstSeq + INSIDE_SEQ_OFFSET, wrap: node.wrap });
  const sampler = startWritableSampler(host, port, node.wrap);
  try {
    const ready = Date.now() + 10_000;
    while (!probe.attempts.some((a) => a.ok) || sampler.samples.length === 0) {
      if (Date.now() > ready) throw new Error(`no write acknowledged by ${primary} from inside its namespace`);
      await sleep(20);
    }
    node.cut();
    const from = Date.now();
    const fenced = (): number | undefined => sampler.samples.find((s) => s.t > from && s.writable !== true)?.t;
    let rtoMs: number;
    let fencedAt: number | undefined;
    try {
      rtoMs = await firstAck(others, from, port, 120_000);
      const fenceBy = from + FENCE_WAIT_MS;
      while ((fencedAt = fenced()) === undefined && Date.now() < fenceBy) await sleep(50);
    } finally {
      node.heal();
      await others.stop();
    }
    const taken = others.attempts.find((a) => a.ok && a.start >= from)!.start;
    await system.healthy();
    return {
      from,
      rtoMs,
      fenceLeadMs: taken - (fencedAt ?? Date.now()),
      inside: { member: primary, attempts: probe.attempts, samples: sampler.samples },
    };
  } finally {
    await Promise.all([probe.stop(), sampler.stop()]);
  }
}

/** Runs `fault` once against a healthy `primary`; resolves once the cluster is healthy again. */
export async function runEpisode(
  system: FaultSystem,
  probe: WriteProbe,
  fault: FaultName,
  primary: string,
): Promise<Episode> {
  const port = system.pgPort(primary);
  let rtoMs: number | null = null;
  let from = Date.now();
  let inside: Episode['inside'];
  let fenceLeadMs: number | undefined;
  switch (fault) {
    case 'kill':
      system.killNode(primary);
      from = Date.now();
      rtoMs = await firstAck(probe, from, port, 120_000);
      await system.restart(primary);
      break;
    case 'switchover':
      await system.switchover(primary);
      await sleep(1500);
      rtoMs = unavailabilityWindow(probe.attempts, from, Date.now());
      break;
    case 'crash-during-switchover': {
      const requested = system.switchover(primary).catch(() => undefined);
      await sleep(50);
      system.killPostgres(primary);
      from = Date.now();
      rtoMs = await firstAck(probe, from, null, 120_000);
      await requested;
      break;
    }
    case 'double-fault': {
      const leader = (await system.leader?.(primary)) ?? null;
      const first = leader !== null && leader !== primary ? leader : system.members.find((m) => m !== primary)!;
      system.signalDaemon(first, 'SIGKILL');
      await sleep(500);
      system.killNode(primary);
      from = Date.now();
      const recovered = await firstAck(probe, from, port, 120_000).then(
        (ms) => ({ ok: true as const, ms }),
        (error: unknown) => ({ ok: false as const, error }),
      );
      // Both daemons start again whether or not a write came back, so the next fault finds the cluster whole.
      const failed = (await Promise.allSettled([system.restart(first), system.restart(primary)])).find(
        (r) => r.status === 'rejected',
      );
      if (!recovered.ok) throw recovered.error;
      if (failed !== undefined) throw failed.reason;
      rtoMs = recovered.ms;
      break;
    }
    case 'frozen-daemon':
      system.signalDaemon(primary, 'SIGSTOP');
      await sleep(FREEZE_MS);
      system.signalDaemon(primary, 'SIGCONT');
      break;
    case 'cut-off': {
      // The run's probe blocks in a query on the frozen server (the kernel keeps its socket alive), so
      // a second one, started before the freeze, connects only to the others: its first write acknowledged
      // is the cut-off's RTO. Its sequence numbers (ms since the epoch × 1000) are the episode's own.
      const others = system.probe(
        system.members.filter((m) => m !== primary),
        Date.now() * CUT_OFF_SEQ_PER_MS,
      );
      system.signalNode(primary, 'SIGSTOP');
      from = Date.now();
      try {
        rtoMs = await firstAck(others, from, port, 120_000);
      } finally {
        system.signalNode(primary, 'SIGCONT');
        await others.stop();
      }
      break;
    }
    case 'partition':
      ({ from, rtoMs, fenceLeadMs, inside } = await partition(system, primary));
      break;
    case 'etcd-outage':
      system.etcd.kill('SIGSTOP');
      await sleep(ETCD_OUTAGE_MS);
      system.etcd.kill('SIGCONT');
      break;
    default: {
      const never: never = fault;
      throw new Error(`unknown fault ${String(never)}`);
    }
  }
  const after = await system.healthy();
  if (fault === 'switchover' && after === primary) throw new Error(`the switchover left ${primary} the primary`);
  const expected = fault === 'frozen-daemon' || fault === 'etcd-outage' ? primary : null;
  await sleep(1000);
  const to = Date.now();
  return {
    rtoMs,
    gapMs: unavailabilityWindow(probe.attempts, from, to),
    avoidable: expected !== null && after !== expected ? 1 : 0,
    from,
    to,
    ...(inside === undefined ? {} : { inside }),
    ...(fenceLeadMs === undefined ? {} : { fenceLeadMs }),
  };
}
