import type { ClusterView, DynamicConfig, FailoverAction, FailoverObserved, PrimaryRecord } from '../types.js';
import { detectCrash } from './self-protection.js';
import { step, type Step } from './step.js';
import { promoteOptions, syncStandbys } from './sync-standbys.js';

/** No primary record yet: the first daemon with a usable data directory bootstraps the cluster. */
export function bootstrap(o: FailoverObserved, cluster: ClusterView, dyn: DynamicConfig, me: string): readonly Step[] {
  const dataDir = o.local.dataDir;
  if (cluster.initializedBy === null && dataDir !== 'replica')
    return [
      step('primary-converge', {
        actions: [{ kind: 'initialize', config: dyn }],
        summary: `bootstrapping the cluster on ${me}${dataDir === 'empty' ? ' (initdb)' : ' (existing data directory)'}`,
      }),
    ];
  return [
    step('primary-converge', {
      summary: `waiting for a primary record (initialized by ${cluster.initializedBy ?? 'nobody'})`,
    }),
  ];
}

/** Its postgres died before its clean shutdown: a crash, which the leader answers with a failover. */
function crashedWhileDemoting(o: FailoverObserved, record: PrimaryRecord): readonly Step[] {
  const summary = `postgres of primary ${record.name} crashed during the switchover: waiting for the leader's failover`;
  const first = o.memory.crashedGeneration !== record.generation;
  return [
    step('self-protection', {
      actions: first ? [{ kind: 'remember-crash', generation: record.generation }] : [],
      summary,
      problem: `postgres of ${record.name} crashed during a switchover`,
      events: first ? [{ severity: 'error', kind: 'primary-crashed', message: summary }] : [],
    }),
  ];
}

/**
 * The member the record names converges on being its writable primary: demote for a switchover,
 * start, promote, lift a fence, make the first write of its generation, publish its optime, and
 * keep the synchronous standbys.
 */
export function convergePrimary(
  o: FailoverObserved,
  cluster: ClusterView,
  record: PrimaryRecord,
  dyn: DynamicConfig,
): readonly Step[] {
  const local = o.local;
  const s = local.status;
  const me = record.name;
  const done = (parts: Parameters<typeof step>[1]): readonly Step[] => [step('primary-converge', parts)];
  if (record.demoting !== null) {
    if (local.running && s !== null && !s.inRecovery && o.memory.demoted?.generation !== record.generation)
      return done({
        actions: [{ kind: 'demote', generation: record.generation }],
        summary: `switchover: demoting ${me} (checkpoint, clean shutdown) for ${record.demoting.to}`,
      });
    if (!local.running && o.memory.demoted?.generation !== record.generation) return crashedWhileDemoting(o, record);
    return done({ summary: `switchover: ${me} demoted, waiting for ${record.demoting.to}` });
  }
  if (local.dataDir === 'empty') {
    const summary = `${me} is named primary but has no data directory`;
    return done({ summary, problem: summary });
  }
  if (!local.running)
    return (
      detectCrash(o, record) ??
      done({
        actions: [{ kind: 'start', as: local.dataDir === 'replica' ? 'replica' : 'primary' }],
        summary: `starting ${me} (primary, generation ${record.generation})`,
      })
    );
  if (s === null) return done({ summary: `${me} is starting` });
  if (s.inRecovery)
    return done({
      actions: [{ kind: 'promote', generation: record.generation, ...promoteOptions(dyn) }],
      summary: `promoting ${me} (generation ${record.generation})`,
    });
  if (s.readOnly)
    return done({
      actions: [{ kind: 'unfence' }],
      summary: `lifting the fence on ${me}: it is the primary of generation ${record.generation}`,
    });
  const actions: FailoverAction[] = [];
  if (o.memory.promoted?.generation !== record.generation)
    actions.push({ kind: 'first-write', generation: record.generation });
  if (s.currentLsn !== null && (cluster.optimeLsn === null || s.currentLsn !== cluster.optimeLsn))
    actions.push({ kind: 'write-optime', lsn: s.currentLsn });
  return [step('primary-converge', { actions }), ...syncStandbys(s, o, cluster, dyn, me)];
}
