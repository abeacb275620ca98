import type { Phase } from '../types.js';

/**
 * What one observation of a PostgresCluster says, in the order that matters: the first that holds is
 * the pass's event (see `classify`).
 */
export type ClusterEvent =
  | 'delete-requested'
  | 'spec-invalid'
  | 'retries-exhausted'
  | 'objects-missing'
  | 'replicas-changed'
  | 'spec-changed'
  | 'drifted'
  | 'no-primary'
  | 'members-unready'
  | 'healthy';

export const CLUSTER_EVENTS: readonly ClusterEvent[] = [
  'delete-requested',
  'spec-invalid',
  'retries-exhausted',
  'objects-missing',
  'replicas-changed',
  'spec-changed',
  'drifted',
  'no-primary',
  'members-unready',
  'healthy',
];

export interface Transition {
  readonly from: readonly Phase[] | 'any';
  readonly on: ClusterEvent;
  readonly to: Phase;
  /** Why, for the table's readers and the Progressing/Degraded reasons. */
  readonly because: string;
}

const building: readonly Phase[] = ['Pending', 'Creating', 'Failed'];
const serving: readonly Phase[] = ['Running', 'Updating', 'Scaling', 'Degraded', 'Recovering'];

/**
 * The guarded transitions, first match wins; a pair not listed keeps the phase. Deleting is final.
 */
export const TRANSITIONS: readonly Transition[] = [
  { from: 'any', on: 'delete-requested', to: 'Deleting', because: 'the PostgresCluster is being deleted' },
  { from: building, on: 'spec-invalid', to: 'Failed', because: 'nothing can be built from an invalid spec' },
  { from: 'any', on: 'retries-exhausted', to: 'Failed', because: 'reconciling failed too often in a row' },
  { from: ['Pending', 'Creating', 'Failed'], on: 'objects-missing', to: 'Creating', because: 'first creation' },
  { from: serving, on: 'objects-missing', to: 'Recovering', because: 'owned objects were removed' },
  { from: ['Pending', 'Failed'], on: 'replicas-changed', to: 'Creating', because: 'first creation' },
  { from: serving, on: 'replicas-changed', to: 'Scaling', because: 'spec.replicas changed' },
  { from: ['Pending', 'Failed'], on: 'spec-changed', to: 'Creating', because: 'first creation' },
  { from: serving, on: 'spec-changed', to: 'Updating', because: 'the spec changed' },
  { from: ['Running', 'Degraded'], on: 'drifted', to: 'Recovering', because: 'owned objects drifted' },
  { from: ['Pending', 'Failed'], on: 'drifted', to: 'Creating', because: 'first creation' },
  { from: ['Running', 'Updating', 'Scaling', 'Recovering'], on: 'no-primary', to: 'Degraded', because: 'no primary' },
  { from: ['Pending', 'Failed'], on: 'no-primary', to: 'Creating', because: 'members are starting' },
  { from: ['Running'], on: 'members-unready', to: 'Degraded', because: 'a member is not ready' },
  { from: ['Degraded'], on: 'members-unready', to: 'Recovering', because: 'the primary is back' },
  { from: ['Pending', 'Failed'], on: 'members-unready', to: 'Creating', because: 'members are starting' },
  {
    from: ['Pending', 'Creating', 'Updating', 'Scaling', 'Degraded', 'Recovering', 'Failed'],
    on: 'healthy',
    to: 'Running',
    because: 'every member is ready and one is the primary',
  },
];

/** The phase after `event` in `phase`. */
export function transition(phase: Phase, event: ClusterEvent): Phase {
  if (phase === 'Deleting') return phase;
  const t = TRANSITIONS.find((x) => x.on === event && (x.from === 'any' || x.from.includes(phase)));
  return t?.to ?? phase;
}

/** The facts `classify` needs, derived from one observation. */
export interface ClusterFacts {
  readonly deleting: boolean;
  readonly valid: boolean;
  readonly retriesExhausted: boolean;
  /** None of the owned objects exists yet, or some were removed. */
  readonly missing: boolean;
  /** spec.replicas differs from the StatefulSet's replicas, or the members have not followed yet. */
  readonly scaling: boolean;
  /** metadata.generation is newer than status.observedGeneration, or applies of a new spec are pending. */
  readonly specChanged: boolean;
  /** Some owned object differs from its intent although the spec did not change. */
  readonly drifted: boolean;
  readonly hasPrimary: boolean;
  readonly allReady: boolean;
}

export function classify(f: ClusterFacts): ClusterEvent {
  if (f.deleting) return 'delete-requested';
  if (!f.valid) return 'spec-invalid';
  if (f.retriesExhausted) return 'retries-exhausted';
  if (f.missing) return 'objects-missing';
  if (f.scaling) return 'replicas-changed';
  if (f.specChanged) return 'spec-changed';
  if (f.drifted) return 'drifted';
  if (!f.hasPrimary) return 'no-primary';
  if (!f.allReady) return 'members-unready';
  return 'healthy';
}
