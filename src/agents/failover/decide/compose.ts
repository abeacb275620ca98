import type {
  ClusterView,
  DynamicConfig,
  FailoverAction,
  FailoverConfig,
  FailoverObserved,
  MemberReport,
} from '../types.js';
import { lead } from './leadership.js';
import { bootstrap, convergePrimary } from './primary-converge.js';
import { publishState } from './published-state.js';
import { convergeReplica, whileBusy } from './replica-converge.js';
import { reseedAfterWipe } from './reseed.js';
import { outageVerdict, servesWithoutEtcd, withoutEtcd } from './self-protection.js';
import { publishReport, selfReport } from './self-report.js';
import type { Concern, FailoverDecision, Step } from './step.js';
import { takeOver } from './switchover.js';

/**
 * Which step's sentence (and, separately, which step's problem) describes the pass: the highest rank
 * among the steps that have one; on a tie, the later step. A pass has at most one step from the
 * local server's concerns and one from the leader's, so the table says: what the leader does to the
 * cluster (a failover, a switchover, a primary it cannot replace) outranks what this daemon does to
 * its own server, and protecting that server (a fence, a crash) outranks converging it.
 */
export const summaryRank: Readonly<Record<Concern, number>> = {
  'self-report': 0,
  'sync-standbys': 0,
  'replica-converge': 1,
  'primary-converge': 1,
  'self-protection': 2,
  leadership: 3,
  switchover: 3,
  reseed: 3,
};

/** The field `key` of the highest-ranked step that has it (see `summaryRank`). */
export function ranked(steps: readonly Step[], key: 'summary' | 'problem'): string | null {
  let best: { rank: number; text: string } | null = null;
  for (const s of steps) {
    const text = s[key];
    if (text !== undefined && (best === null || summaryRank[s.concern] >= best.rank))
      best = { rank: summaryRank[s.concern], text };
  }
  return best?.text ?? null;
}

/**
 * Promotion and fencing change who can acknowledge writes: they run before the report goes out, not
 * after an etcd round trip; so does a record write that promotes this daemon's server right after it.
 * The filter keeps their order, so a remote fence still starts before the promotion it guards.
 */
function urgentFirst(actions: readonly FailoverAction[]): FailoverAction[] {
  const urgent = (a: FailoverAction): boolean =>
    a.kind === 'promote' ||
    a.kind === 'fence' ||
    a.kind === 'remote-fence' ||
    (a.kind === 'set-primary' && a.promote !== undefined);
  return [...actions.filter(urgent), ...actions.filter((a) => !urgent(a))];
}

function idleSummary(o: FailoverObserved, config: FailoverConfig): string {
  const primary = o.cluster?.primary?.name ?? 'none';
  const role =
    o.local.status === null
      ? o.local.running
        ? 'starting'
        : 'stopped'
      : o.local.status.inRecovery
        ? 'replica'
        : 'primary';
  return `${config.node} is ${role}; primary ${primary}${o.etcd.leader ? '; this daemon leads' : ''}`;
}

/** The local server: busy, bootstrap, or converge on the record as its primary or as a replica. */
function convergeLocal(
  o: FailoverObserved,
  cluster: ClusterView,
  dyn: DynamicConfig,
  now: number,
  me: string,
): readonly Step[] {
  const record = cluster.primary;
  const busy = whileBusy(o, me);
  if (busy !== null) return busy;
  if (record === null) return bootstrap(o, cluster, dyn, me);
  return record.name === me ? convergePrimary(o, cluster, record, dyn) : convergeReplica(o, cluster, record, me, now);
}

/** A pass that read etcd: a re-seed after a wipe, or the report, the local server and the leader's work. */
function withEtcd(
  o: FailoverObserved,
  cluster: ClusterView,
  report: MemberReport,
  dyn: DynamicConfig,
  now: number,
  me: string,
): readonly Step[] {
  const reseed = reseedAfterWipe(o, cluster, me);
  if (reseed !== null) return [reseed];
  return [
    ...publishReport(o, cluster, report, now, dyn),
    ...convergeLocal(o, cluster, dyn, now, me),
    ...lead(o, cluster, dyn, now, me),
    ...takeOver(o, cluster, dyn, now, me),
  ];
}

/** A pass that could not read etcd: the outage verdict's steps, and whether this server still serves writes. */
function withoutEtcdPass(
  o: FailoverObserved,
  dyn: DynamicConfig,
  now: number,
): { readonly steps: readonly Step[]; readonly serving: boolean } {
  const verdict = outageVerdict(o, dyn, now);
  return { steps: withoutEtcd(verdict), serving: servesWithoutEtcd(verdict) };
}

/**
 * One pass of a node daemon, without I/O: publish its own report; make its own server converge on
 * the primary record (initialize, clone, start, promote, follow, fence, demote, rejoin); and, on the
 * leader, detect a failed primary, choose the candidate, and drive switchovers.
 */
export function decideFailover(o: FailoverObserved, now: number, config: FailoverConfig): FailoverDecision {
  const dyn = o.cluster?.config ?? config.initial;
  const report = selfReport(o, config, now);
  const cluster = o.cluster;
  const pass =
    cluster === null
      ? withoutEtcdPass(o, dyn, now)
      : { steps: withEtcd(o, cluster, report, dyn, now, config.node), serving: false };
  const steps = pass.steps;
  const events = steps.flatMap((s) => s.events);
  const base: FailoverDecision = {
    actions: urgentFirst(steps.flatMap((s) => s.actions)),
    summary: ranked(steps, 'summary') ?? idleSummary(o, config),
    publish: publishState(o, config, dyn, report, ranked(steps, 'problem'), pass.serving),
    requeueAfterMs: Math.min(dyn.loopIntervalMs, ...steps.map((s) => s.requeueAfterMs ?? dyn.loopIntervalMs)),
  };
  return events.length > 0 ? { ...base, events } : base;
}
