import { describe, expect, it } from 'vitest';
import {
  CLUSTER_EVENTS,
  classify,
  transition,
  type ClusterFacts,
} from '../../../src/agents/patroni-operator/decide/fsm.js';
import { PHASES, type Phase } from '../../../src/agents/patroni-operator/types.js';

/**
 * The whole table, written out: one row per phase, one column per event in CLUSTER_EVENTS order
 * (delete-requested, spec-invalid, retries-exhausted, objects-missing, replicas-changed, spec-changed,
 * drifted, no-primary, members-unready, healthy).
 */
const expected: Readonly<Record<Phase, readonly Phase[]>> = {
  Pending: [
    'Deleting',
    'Failed',
    'Failed',
    'Creating',
    'Creating',
    'Creating',
    'Creating',
    'Creating',
    'Creating',
    'Running',
  ],
  Creating: [
    'Deleting',
    'Failed',
    'Failed',
    'Creating',
    'Creating',
    'Creating',
    'Creating',
    'Creating',
    'Creating',
    'Running',
  ],
  Running: [
    'Deleting',
    'Running',
    'Failed',
    'Recovering',
    'Scaling',
    'Updating',
    'Recovering',
    'Degraded',
    'Degraded',
    'Running',
  ],
  Updating: [
    'Deleting',
    'Updating',
    'Failed',
    'Recovering',
    'Scaling',
    'Updating',
    'Updating',
    'Degraded',
    'Updating',
    'Running',
  ],
  Scaling: [
    'Deleting',
    'Scaling',
    'Failed',
    'Recovering',
    'Scaling',
    'Updating',
    'Scaling',
    'Degraded',
    'Scaling',
    'Running',
  ],
  Degraded: [
    'Deleting',
    'Degraded',
    'Failed',
    'Recovering',
    'Scaling',
    'Updating',
    'Recovering',
    'Degraded',
    'Recovering',
    'Running',
  ],
  Recovering: [
    'Deleting',
    'Recovering',
    'Failed',
    'Recovering',
    'Scaling',
    'Updating',
    'Recovering',
    'Degraded',
    'Recovering',
    'Running',
  ],
  Failed: [
    'Deleting',
    'Failed',
    'Failed',
    'Creating',
    'Creating',
    'Creating',
    'Creating',
    'Creating',
    'Creating',
    'Running',
  ],
  Deleting: [
    'Deleting',
    'Deleting',
    'Deleting',
    'Deleting',
    'Deleting',
    'Deleting',
    'Deleting',
    'Deleting',
    'Deleting',
    'Deleting',
  ],
};

describe('the PostgresCluster state machine', () => {
  for (const phase of PHASES)
    for (const [i, event] of CLUSTER_EVENTS.entries())
      it(`${phase} --${event}--> ${expected[phase][i]}`, () => {
        expect(transition(phase, event)).toBe(expected[phase][i]);
      });
});

describe('classify picks the event by priority', () => {
  const healthy: ClusterFacts = {
    deleting: false,
    valid: true,
    retriesExhausted: false,
    missing: false,
    scaling: false,
    specChanged: false,
    drifted: false,
    hasPrimary: true,
    allReady: true,
  };
  const cases: [Partial<ClusterFacts>, string][] = [
    [{}, 'healthy'],
    [{ allReady: false }, 'members-unready'],
    [{ hasPrimary: false, allReady: false }, 'no-primary'],
    [{ drifted: true, hasPrimary: false }, 'drifted'],
    [{ specChanged: true, drifted: true }, 'spec-changed'],
    [{ scaling: true, specChanged: true }, 'replicas-changed'],
    [{ missing: true, scaling: true }, 'objects-missing'],
    [{ retriesExhausted: true, missing: true }, 'retries-exhausted'],
    [{ valid: false, retriesExhausted: true }, 'spec-invalid'],
    [{ deleting: true, valid: false }, 'delete-requested'],
  ];
  for (const [facts, event] of cases)
    it(`${JSON.stringify(facts)} is ${event}`, () => {
      expect(classify({ ...healthy, ...facts })).toBe(event);
    });
});
