import { backoffDelay, type BackoffPolicy } from './backoff.js';
import type { ActContext, ObserveContext } from './context.js';
import type { DecisionEvent } from './journal.js';

/** What an agent's error policy says about a key whose reconcile failed. */
export type ErrorVerdict =
  /** Retry after the kernel's per-key exponential backoff (with jitter, up to its cap). */
  | { readonly kind: 'backoff' }
  | { readonly kind: 'requeue'; readonly afterMs: number }
  /** Stop retrying; the key runs again only when it is enqueued (its object changed) or leadership moves here. */
  | { readonly kind: 'give-up'; readonly reason: string };

/** What a key's `decide` returns: its actions and one sentence, computed without I/O. */
export interface KeyDecision<KA extends { readonly kind: string }> {
  readonly actions: readonly KA[];
  readonly summary: string;
  /** Reconcile this key again after this many ms (at the latest after the resync period). */
  readonly requeueAfterMs?: number;
  readonly events?: readonly DecisionEvent[];
}

/**
 * Reconciles one key at a time (one PostgresCluster, one Citus worker): observe the key -> pure decide
 * -> act, composed by the kernel, which owns the queue, the backoff, the leader gate and the events.
 * KO is what one key's observation holds, KA the key's action union.
 */
export interface KeyedReconciler<C, D, O, M, KO, KA extends { readonly kind: string }> {
  /**
   * Every key that exists now, read off the agent's own pass: new keys are reconciled at once, keys no
   * longer listed are forgotten (so keep a key listed until its clean-up is done, as a finalizer does).
   */
  keys(observed: O): readonly string[];
  observe(deps: D, key: string, ctx: ObserveContext<M>): Promise<KO>;
  decide(observed: KO, now: number, config: C): KeyDecision<KA>;
  act(deps: D, key: string, action: KA, ctx: ActContext<M>): Promise<void>;
  /** After a failed reconcile (`attempts` counts consecutive failures, from 1); the default backs off. */
  errorPolicy?(key: string, error: unknown, attempts: number): ErrorVerdict;
  /**
   * Keys reconciled at once, for an agent whose reconciles are long chains of requests (the kernel's
   * default otherwise; a `keyed.concurrency` start option still wins).
   */
  readonly concurrency?: number;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each agent has its own key observation and actions
export type AnyKeyedReconciler<C, D, O, M> = KeyedReconciler<C, D, O, M, any, any>;

export const defaultVerdict: ErrorVerdict = { kind: 'backoff' };

/** When a failed key runs again, in ms from now; null when it was given up. */
export function retryAfter(
  verdict: ErrorVerdict,
  attempts: number,
  policy: BackoffPolicy,
  random: () => number,
): number | null {
  switch (verdict.kind) {
    case 'backoff':
      return backoffDelay(policy, attempts, random);
    case 'requeue':
      return Math.max(0, verdict.afterMs);
    case 'give-up':
      return null;
  }
}
