import type { Condition, ConditionType, MemberView, Phase, PostgresClusterStatus } from '../types.js';
import type { ClusterEvent } from './fsm.js';
import { stableJson } from './hash.js';

type Verdict = Pick<Condition, 'status' | 'reason' | 'message'>;

export interface StatusInputs {
  readonly phase: Phase;
  readonly event: ClusterEvent;
  readonly problems: readonly string[];
  readonly paused: boolean;
  readonly replicas: number;
  readonly members: readonly MemberView[];
  readonly generation: number;
  readonly selector: string;
}

const progressing: readonly Phase[] = ['Creating', 'Updating', 'Scaling', 'Recovering', 'Deleting'];

function verdicts(i: StatusInputs): Readonly<Record<ConditionType, Verdict>> {
  const ready = i.members.filter((m) => m.ready).length;
  const primary = i.members.find((m) => m.role === 'master' && m.ready);
  const valid = i.problems.length === 0;
  return {
    ConfigurationValid: valid
      ? { status: 'True', reason: 'Valid', message: 'the spec is valid' }
      : { status: 'False', reason: 'InvalidSpec', message: i.problems.join('; ') },
    Ready:
      i.phase === 'Running'
        ? { status: 'True', reason: 'Running', message: `primary ${primary?.name ?? ''}, ${ready}/${i.replicas} ready` }
        : { status: 'False', reason: i.phase, message: `phase ${i.phase}: ${ready}/${i.replicas} members ready` },
    Progressing: i.paused
      ? { status: 'False', reason: 'Paused', message: 'reconciliation is paused (spec.paused)' }
      : progressing.includes(i.phase)
        ? { status: 'True', reason: i.phase, message: `${i.event.replace(/-/g, ' ')}` }
        : { status: 'False', reason: 'Settled', message: `phase ${i.phase}` },
    Degraded:
      i.phase === 'Degraded' || i.phase === 'Failed'
        ? {
            status: 'True',
            reason: i.phase,
            message: primary === undefined ? 'no ready primary' : `${i.replicas - ready} member(s) not ready`,
          }
        : { status: 'False', reason: 'Healthy', message: 'no member is missing' },
    ReplicasReady:
      ready >= i.replicas
        ? { status: 'True', reason: 'AllReady', message: `${ready}/${i.replicas} ready` }
        : { status: 'False', reason: 'NotAllReady', message: `${ready}/${i.replicas} ready` },
  };
}

const TYPES: readonly ConditionType[] = ['Ready', 'Progressing', 'Degraded', 'ConfigurationValid', 'ReplicasReady'];

/**
 * The status a pass publishes. A condition whose status, reason and message did not change keeps its
 * lastTransitionTime, so an unchanged cluster yields an identical status (and no write).
 */
export function deriveStatus(
  i: StatusInputs,
  before: PostgresClusterStatus | undefined,
  nowIso: string,
): PostgresClusterStatus {
  const v = verdicts(i);
  const conditions = TYPES.map((type): Condition => {
    const prior = before?.conditions?.find((c) => c.type === type);
    const next = v[type];
    const same =
      prior !== undefined &&
      prior.status === next.status &&
      prior.reason === next.reason &&
      prior.message === next.message;
    return {
      type,
      ...next,
      lastTransitionTime: same ? prior.lastTransitionTime : nowIso,
      observedGeneration: i.generation,
    };
  });
  const primary = i.members.find((m) => m.role === 'master');
  return {
    phase: i.phase,
    replicas: i.members.length,
    readyReplicas: i.members.filter((m) => m.ready).length,
    primaryPod: primary?.name ?? null,
    replicaPods: i.members
      .filter((m) => m.role !== 'master')
      .map((m) => m.name)
      .sort(),
    selector: i.selector,
    conditions,
    observedGeneration: i.problems.length === 0 ? i.generation : (before?.observedGeneration ?? 0),
    retry: null,
  };
}

/**
 * Whether `next` says anything `before` does not (the fields it sets; conditions by value). A null in a
 * merge patch removes the field, so null and absent are the same; the server sends keys in its own order.
 */
export function statusChanged(before: PostgresClusterStatus | undefined, next: PostgresClusterStatus): boolean {
  if (before === undefined) return true;
  return (Object.keys(next) as (keyof PostgresClusterStatus)[]).some(
    (k) => stableJson(before[k] ?? null) !== stableJson(next[k] ?? null),
  );
}
