import type { Decision } from '../../kernel/agent.js';
import type { FailoverAction, FailoverState } from '../types.js';

export type FailoverDecision = Decision<FailoverAction, FailoverState>;
export type DecisionEvent = NonNullable<FailoverDecision['events']>[number];

/** The concerns of one pass, one file each under `decide/`. */
export type Concern =
  | 'self-report'
  | 'self-protection'
  | 'replica-converge'
  | 'primary-converge'
  | 'sync-standbys'
  | 'leadership'
  | 'switchover'
  | 'reseed';

/**
 * What one concern contributes to a pass: its actions and events, and at most one sentence and one
 * problem, which the composer ranks against the other steps' by their concern.
 */
export interface Step {
  readonly concern: Concern;
  readonly actions: readonly FailoverAction[];
  readonly events: readonly DecisionEvent[];
  readonly summary?: string;
  readonly problem?: string;
  /** The next pass is due this soon (the pass takes the shortest of its steps' and the loop interval). */
  readonly requeueAfterMs?: number;
}

export function step(
  concern: Concern,
  parts: Partial<Pick<Step, 'actions' | 'events' | 'summary' | 'problem' | 'requeueAfterMs'>> = {},
): Step {
  return { actions: [], events: [], ...parts, concern };
}

/** A warning event that repeats the step's summary (a transition worth journaling). */
export function warn(kind: string, message: string): DecisionEvent {
  return { severity: 'warn', kind, message };
}

export const msPerSecond = 1000;
