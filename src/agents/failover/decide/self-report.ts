import type {
  ClusterView,
  DynamicConfig,
  FailoverConfig,
  FailoverObserved,
  MemberReport,
  MemberState,
} from '../types.js';
import { step, type Step } from './step.js';

/** An unchanged report is re-put after this many loop intervals (its positions may still have moved). */
const refreshEveryPasses = 5;

function selfState(o: FailoverObserved): MemberState {
  const busy = o.memory.busy;
  if (busy === 'cloning' || busy === 'rewinding') return busy;
  const s = o.local.status;
  if (o.local.running) {
    if (s === null) return 'starting';
    if (!s.inRecovery) return s.readOnly ? 'fenced' : 'running';
    return s.streaming ? 'streaming' : 'running';
  }
  return o.memory.crashedGeneration !== null && o.memory.crashedGeneration === o.cluster?.primary?.generation
    ? 'crashed'
    : 'stopped';
}

/** This node's report as it should stand in etcd after this pass. */
export function selfReport(o: FailoverObserved, config: FailoverConfig, now: number): MemberReport {
  const s = o.local.status;
  const role =
    s !== null
      ? s.inRecovery
        ? 'replica'
        : 'primary'
      : o.local.dataDir === 'empty'
        ? 'uninitialized'
        : o.local.dataDir;
  const sync =
    o.cluster?.sync?.members.includes(config.node) === true && o.cluster.sync.primary === o.cluster.primary?.name;
  return {
    name: config.node,
    apiUrl: config.apiUrl,
    host: config.pgHost,
    port: config.pgPort,
    role,
    state: selfState(o),
    timeline: s?.timeline ?? null,
    receivedLsn: s === null ? null : s.inRecovery ? s.receivedLsn : s.currentLsn,
    replayedLsn: s?.replayedLsn ?? null,
    writtenLsn: s?.currentLsn ?? null,
    following: s?.inRecovery === true ? o.local.following : null,
    generation: o.cluster?.primary?.generation ?? 0,
    crashedGeneration: o.memory.crashedGeneration,
    demoted: o.memory.demoted,
    promoted: o.memory.promoted,
    noFailover: config.noFailover,
    sync,
    replication: s?.replication ?? [],
    replayLagSeconds: s?.replayLagSeconds ?? null,
    slots: s?.slots ?? [],
    reportedAt: now,
  };
}

function shouldPublish(last: MemberReport | null, next: MemberReport, now: number, dyn: DynamicConfig): boolean {
  if (last === null) return true;
  const shape = (r: MemberReport): string =>
    JSON.stringify({
      ...r,
      receivedLsn: 0,
      replayedLsn: 0,
      writtenLsn: 0,
      reportedAt: 0,
      replayLagSeconds: 0,
      slots: r.slots?.map((x) => [x.name, x.active]),
      replication: r.replication.map((x) => [x.name, x.state, x.syncState]),
    });
  if (shape(last) !== shape(next)) return true;
  return (
    now - last.reportedAt >= dyn.loopIntervalMs &&
    (last.receivedLsn !== next.receivedLsn ||
      last.replayedLsn !== next.replayedLsn ||
      now - last.reportedAt >= refreshEveryPasses * dyn.loopIntervalMs)
  );
}

/** Publishes the report when etcd lacks it or it changed (positions at most once per pass). */
export function publishReport(
  o: FailoverObserved,
  cluster: ClusterView,
  report: MemberReport,
  now: number,
  dyn: DynamicConfig,
): readonly Step[] {
  const listed = cluster.members.some((m) => m.name === report.name);
  const publish = !listed || shouldPublish(o.memory.lastReport, report, now, dyn);
  return [step('self-report', { actions: publish ? [{ kind: 'publish', report }] : [] })];
}
