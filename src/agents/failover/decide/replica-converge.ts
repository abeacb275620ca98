import type { ClusterView, FailoverAction, FailoverObserved, PrimaryRecord } from '../types.js';
import { fenceIfNotPrimary } from './self-protection.js';
import { msPerSecond, step, warn, type Step } from './step.js';

/** A standby that has not streamed from the primary this long after being pointed at it is rewound. */
const notStreamingLimitMs = 5000;
/** A standby that failed to start this many times in a row is re-cloned. */
const maxStartFailures = 2;

/** The record's primary reports that it serves the record's generation: it can be cloned or rewound from. */
function primaryServing(cluster: ClusterView, record: PrimaryRecord): boolean {
  const m = cluster.members.find((r) => r.name === record.name);
  return m !== undefined && m.role === 'primary' && m.state === 'running' && m.generation === record.generation;
}

/**
 * This former primary shut down cleanly for a switchover and the record now names the member it handed
 * over to: the generation right after its demotion, which the leader writes only once that member has
 * received the shutdown checkpoint. Its WAL ends before the new timeline forks, so it follows as it is:
 * no CHECKPOINT on the new primary and no pg_rewind from it, in the seconds after its promotion.
 */
function handedOver(o: FailoverObserved, record: PrimaryRecord): boolean {
  const demoted = o.memory.demoted;
  return demoted !== null && !o.local.running && record.generation === demoted.generation + 1;
}

/** A clone or rewind is running (in `act`): nothing else is decided for the local server meanwhile. */
export function whileBusy(o: FailoverObserved, me: string): readonly Step[] | null {
  return o.memory.busy === null ? null : [step('replica-converge', { summary: `${me} is ${o.memory.busy}` })];
}

/**
 * A member the record does not name converges on being its streaming replica: reinit on request,
 * clone an empty data directory, rewind a former primary, follow the record's primary, re-clone a
 * standby that cannot start, rewind one that does not stream (a diverged history), start it.
 */
export function convergeReplica(
  o: FailoverObserved,
  cluster: ClusterView,
  record: PrimaryRecord,
  me: string,
  now: number,
): readonly Step[] {
  const local = o.local;
  const target = cluster.endpoints[record.name] ?? null;
  const serving = primaryServing(cluster, record);
  const s = local.status;
  const done = (parts: Parameters<typeof step>[1]): readonly Step[] => [step('replica-converge', parts)];
  if (cluster.reinit.includes(me) && target !== null && serving)
    return done({
      actions: [
        { kind: 'reclone', from: target },
        { kind: 'clear-reinit', name: me },
      ],
      summary: `reinitializing ${me} from ${record.name}`,
    });
  const fence = fenceIfNotPrimary(o, record, me);
  if (fence !== null) return fence;
  if (target === null) return done({ summary: `waiting for ${record.name} to report` });
  if (local.dataDir === 'empty')
    return serving
      ? done({
          actions: [{ kind: 'clone', from: target }],
          summary: `cloning ${me} from ${record.name} (pg_basebackup)`,
        })
      : done({ summary: `waiting for ${record.name} to serve before cloning` });
  if (local.dataDir === 'primary' || (s !== null && !s.inRecovery)) {
    if (!serving) return done({ summary: `former primary ${me} waits for ${record.name} to serve` });
    const rewind = !handedOver(o, record);
    const how = rewind ? 'pg_rewind' : 'clean switchover shutdown: no rewind';
    return done({
      actions: [{ kind: 'rejoin', from: target, rewind }],
      summary: `rejoining ${me} as a replica of ${record.name} (${how})`,
    });
  }
  const follow: FailoverAction[] = local.following === record.name ? [] : [{ kind: 'follow', to: target }];
  if (serving && !local.running && o.memory.startFailures >= maxStartFailures) {
    const summary = `${me} failed to start ${o.memory.startFailures} times as a replica: re-cloning from ${record.name}`;
    return done({
      actions: [...follow, { kind: 'reclone', from: target }],
      summary,
      events: [warn('reclone', summary)],
    });
  }
  if (
    serving &&
    local.following === record.name &&
    local.notStreamingSince !== null &&
    now - local.notStreamingSince > notStreamingLimitMs
  ) {
    const seconds = Math.round((now - local.notStreamingSince) / msPerSecond);
    const summary = `${me} has not streamed from ${record.name} for ${seconds} s (diverged history?): rewinding it`;
    return done({
      actions: [{ kind: 'rejoin', from: target, rewind: true }],
      summary,
      events: [warn('rejoin', summary)],
    });
  }
  if (!local.running)
    return done({
      actions: [...follow, { kind: 'start', as: 'replica' }],
      summary: `starting ${me} as a replica of ${record.name}`,
    });
  return follow.length === 0 ? [] : done({ actions: follow, summary: `pointing ${me} at ${record.name}` });
}
