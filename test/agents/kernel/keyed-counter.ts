import { z } from 'zod';
import type { AgentDefinition, NoMemory } from '../../../src/agents/kernel/agent.js';
import { PgdeckError } from '../../../src/agents/kernel/errors.js';
import type { ErrorVerdict, KeyedReconciler } from '../../../src/agents/kernel/reconcile.js';

/**
 * A keyed agent over in-memory counters, for the kernel's work-queue tests: one key per counter, each
 * reconcile raises its counter by one until it reaches its target. Every I/O step takes `latencyMs` of
 * real time (a timer), so reconciles overlap as they would against a server. Keys in `failing` fail
 * every observe. The world is shared, so several agents (replicas) can run over it.
 */
export interface KeyedWorld {
  readonly counters: Map<string, { value: number; readonly target: number }>;
  readonly failing: Set<string>;
  /** When each reconcile of a key started (ms since epoch). */
  readonly attempts: Map<string, number[]>;
  /** When each counter reached its target. */
  readonly convergedAt: Map<string, number>;
  /** Every act: which replica, and who held the lease then (the gate test sets `holder`). */
  readonly acts: { readonly key: string; readonly instance: string; readonly holder: string | null }[];
  /** A reconcile of a key listed here waits for the promise before observing. */
  readonly hold: Map<string, Promise<void>>;
  latencyMs: number;
  /** Reconcile a key at its target again after this many ms (undefined: the resync period). */
  idleRequeueMs: number | undefined;
  errorPolicy: ((key: string, error: unknown, attempts: number) => ErrorVerdict) | undefined;
  holder: () => string | null;
  /** The reconciler's own `concurrency` (undefined: none, the kernel's default). */
  concurrency: number | undefined;
  /** Reconciles observing or acting now, and the most there ever were at once. */
  active: number;
  maxActive: number;
}

export function keyedWorld(keys: number, target: number, prefix = 'key'): KeyedWorld {
  const counters = new Map<string, { value: number; target: number }>();
  for (let i = 0; i < keys; i++) counters.set(`${prefix}-${String(i).padStart(3, '0')}`, { value: 0, target });
  return {
    counters,
    failing: new Set(),
    attempts: new Map(),
    convergedAt: new Map(),
    acts: [],
    hold: new Map(),
    latencyMs: 1,
    idleRequeueMs: undefined,
    errorPolicy: undefined,
    holder: () => null,
    concurrency: undefined,
    active: 0,
    maxActive: 0,
  };
}

export interface KeyedDeps {
  readonly world: KeyedWorld;
  readonly instance: string;
}

type KeyObserved = { readonly value: number; readonly target: number } | null;
type KeyAction = { readonly kind: 'step' };
const configSchema = z.object({ instance: z.string().default('r0') });
type Config = z.infer<typeof configSchema>;

const io = (world: KeyedWorld): Promise<void> => new Promise((resolve) => setTimeout(resolve, world.latencyMs));

function reconciler(
  world: KeyedWorld,
): KeyedReconciler<Config, KeyedDeps, readonly string[], NoMemory, KeyObserved, KeyAction> {
  return {
    keys: (observed) => observed,
    observe: async (_deps, key) => {
      world.attempts.set(key, [...(world.attempts.get(key) ?? []), Date.now()]);
      world.active += 1;
      world.maxActive = Math.max(world.maxActive, world.active);
      try {
        await world.hold.get(key);
        await io(world);
      } finally {
        world.active -= 1;
      }
      if (world.failing.has(key)) throw new PgdeckError('unavailable', `${key} does not answer`);
      const counter = world.counters.get(key);
      return counter === undefined ? null : { value: counter.value, target: counter.target };
    },
    decide: (o) => {
      if (o === null) return { actions: [], summary: 'gone' };
      if (o.value < o.target)
        return { actions: [{ kind: 'step' }], summary: `raising ${o.value} towards ${o.target}`, requeueAfterMs: 0 };
      return {
        actions: [],
        summary: `at target ${o.target}`,
        ...(world.idleRequeueMs === undefined ? {} : { requeueAfterMs: world.idleRequeueMs }),
      };
    },
    act: async (deps, key) => {
      await io(world);
      const counter = world.counters.get(key);
      if (counter === undefined) return;
      counter.value += 1;
      world.acts.push({ key, instance: deps.instance, holder: world.holder() });
      if (counter.value === counter.target) world.convergedAt.set(key, Date.now());
    },
    errorPolicy: (key, error, attempts) => world.errorPolicy?.(key, error, attempts) ?? { kind: 'backoff' },
    ...(world.concurrency === undefined ? {} : { concurrency: world.concurrency }),
  };
}

export function keyedCounterAgent(
  world: KeyedWorld,
  leaderElection?: 'kube-lease',
): AgentDefinition<Config, KeyedDeps, readonly string[], never, { readonly keys: number }> {
  return {
    name: 'keyed-counter',
    description: 'one counter per key, each climbing to its target (test fixture)',
    configSchema,
    cliOptions: [],
    identify: (config) => ({ entity: 'counters', instance: config.instance, label: config.instance }),
    connect: async (config) => ({ world, instance: config.instance }),
    observe: async (deps) => [...deps.world.counters.keys()],
    decide: (keys) => ({ actions: [], summary: `${keys.length} counters`, publish: { keys: keys.length } }),
    act: async () => undefined,
    reachability: () => ({ world: true }),
    reconcile: reconciler(world),
    ...(leaderElection === undefined ? {} : { leaderElection }),
    actions: {},
    close: async () => undefined,
  };
}
