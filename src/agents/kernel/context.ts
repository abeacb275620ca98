import type { Clock } from './clock.js';
import type { Logger } from './logger.js';
import type { AgentMetrics } from './metrics.js';

/** What the kernel hands every hook of an agent. */
export interface AgentContext {
  /** Aborts when the agent stops. */
  readonly signal: AbortSignal;
  readonly log: Logger;
  readonly clock: Clock;
  readonly metrics: AgentMetrics;
  /** Asks the loop for a pass as soon as possible; calls before a pass starts coalesce into it. */
  readonly wake: () => void;
  /**
   * Runs a background task owned by the agent: it gets the agent's signal and must end when it aborts;
   * a failure is logged, and close() waits for the task before closing the adapters.
   */
  spawn(name: string, task: (signal: AbortSignal) => Promise<void>): void;
}

/** What `observe` gets: the memory as the last pass left it. Observe reads it and never writes. */
export interface ObserveContext<M> extends AgentContext {
  readonly memory: M;
}

/**
 * What `act` gets. `memory` is the memory now, with every patch recorded so far; `signal` also aborts
 * when this replica stops leading (agents with `leaderElection`).
 */
export interface ActContext<M> extends AgentContext {
  readonly memory: M;
  /** Merges a patch into the memory (shallowly); the kernel keeps the latest and hands it to the next pass. */
  remember(patch: Partial<M>): void;
}

/** What `wakeOn` gets: the memory now (read-only, for background guards) and the keyed queue. */
export interface WatchContext<M> extends AgentContext {
  readonly memory: M;
  /** Keyed agents: reconcile this key soon (one run however often it is asked). Single-pass agents: wake. */
  enqueue(key: string): void;
}

/** Builds the contexts of one pass's observe and act (and of one key's). */
export interface PassContexts<M> {
  observe(): ObserveContext<M>;
  act(): ActContext<M>;
}
