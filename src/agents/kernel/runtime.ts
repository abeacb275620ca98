import type { AgentDefinition, ActionContext } from './agent.js';
import { systemClock, type Clock } from './clock.js';
import type { AgentContext, PassContexts, WatchContext } from './context.js';
import { agentControl, describeActions } from './control.js';
import { PgdeckError } from './errors.js';
import { KeyedRunner, defaultKeyedOptions, type KeyedOptions } from './keyed-runner.js';
import { LeaderGate, ungated, type ActGate } from './leader-gate.js';
import type { LeaderElectorFactory } from './leader.js';
import { journalLogger, type LineSink } from './logger.js';
import { AgentLoop, defaultLoopOptions, type LoopOptions } from './loop.js';
import { AgentMemory } from './memory.js';
import { noMetrics, type AgentMetrics } from './metrics.js';
import type { Actor, AgentControl, AgentHandle } from './snapshot.js';
import { AgentStore } from './store.js';
import { TaskGroup } from './task-group.js';

export interface StartOptions {
  readonly clock?: Clock;
  readonly metrics?: AgentMetrics;
  /** Extra log sink (JSON lines in headless mode); the journal always gets the lines. */
  readonly logSink?: LineSink;
  readonly loop?: Partial<LoopOptions>;
  readonly keyed?: Partial<KeyedOptions>;
  readonly journalCapacity?: number;
  /** Builds the elector of an agent that declares `leaderElection` (the composition root picks the backend). */
  readonly leaderElector?: LeaderElectorFactory;
  /**
   * Runs once the adapters are connected and before the first pass or campaign (e.g. to bring the API
   * up first, so that a peer finds it listening the moment this agent leads); a throw stops the start.
   */
  readonly beforeRun?: (agent: StartingAgent<unknown, unknown>) => Promise<void>;
}

/** What an agent exposes before its loop runs: its store (health not ready yet), actions and adapters. */
export interface StartingAgent<D, P> {
  readonly store: AgentStore<P>;
  readonly control: AgentControl;
  readonly deps: D;
}

export interface RunningAgent<C, D, P, M = unknown> extends AgentHandle<P> {
  readonly store: AgentStore<P>;
  readonly deps: D;
  readonly config: C;
  readonly wake: () => void;
  /** Keyed agents: reconcile this key soon. Single-pass agents: wake. */
  readonly enqueue: (key: string) => void;
  /** The agent's memory now. */
  readonly memory: () => M;
  /** Resolves when the loop (and a keyed agent's reconciles) have stopped, after `close()`. */
  readonly stopped: Promise<void>;
}

/**
 * Starts one agent in this process: connects its adapters, runs its loop (and, for a keyed agent, its
 * work queue), keeps its memory, gates its actions on leadership, serves its actions. `close()` stops
 * the work and waits for it and for every background task, then releases the leadership, then closes
 * the adapters.
 */
export async function startAgent<C, D, O, A extends { readonly kind: string }, P, M extends object>(
  definition: AgentDefinition<C, D, O, A, P, M>,
  config: C,
  options: StartOptions = {},
): Promise<RunningAgent<C, D, P, M>> {
  const clock = options.clock ?? systemClock;
  const metrics = options.metrics ?? noMetrics;
  const identity = { kind: definition.name, ...definition.identify(config) };
  const elect = definition.leaderElection === undefined ? undefined : options.leaderElector;
  if (definition.leaderElection !== undefined && elect === undefined)
    throw new PgdeckError(
      'config',
      `agent ${definition.name} elects a leader (${definition.leaderElection}) but no leader elector was given`,
    );
  const loopOptions = { ...defaultLoopOptions, ...options.loop };
  const store = new AgentStore<P>(definition.name, {
    journalCapacity: options.journalCapacity ?? 5000,
    now: () => clock.now(),
    identity,
  });
  const log = journalLogger(store.journal, options.logSink, { agent: definition.name });
  const sink = options.logSink;
  const unforward =
    sink === undefined
      ? undefined
      : store.journal.subscribe((e) => {
          if (e.kind !== 'log') sink(e.severity, e.message, { agent: definition.name, kind: e.kind, ...e.fields });
        });
  const work = new AbortController();
  const election = new AbortController();
  const tasks = new TaskGroup(work.signal, log);
  let runner: KeyedRunner<C, D, O, M> | undefined;
  // adapters built by connect() get `wake` before the loop exists: until then there is nothing to wake
  let wakeLoop: () => void = () => undefined;
  const wake = (): void => wakeLoop();
  const ctx: AgentContext = { signal: work.signal, log, clock, metrics, wake, spawn: tasks.spawn };
  const declared = definition as { initialMemory?: (config: C) => M };
  const memory = new AgentMemory<M>(declared.initialMemory?.(config) ?? ({} as M));
  const leaderGate =
    elect === undefined
      ? undefined
      : new LeaderGate({
          elector: elect(definition.name, identity.instance),
          work: work.signal,
          store,
          clock,
          backoff: loopOptions.backoff,
          random: loopOptions.random,
          onLead: () => {
            wake();
            runner?.enqueueAll();
          },
        });
  const gate: ActGate = leaderGate ?? ungated(work.signal);
  const contexts: PassContexts<M> = {
    observe: () => ({ ...ctx, memory: memory.current }),
    act: () => ({
      ...ctx,
      signal: gate.term,
      get memory() {
        return memory.current;
      },
      remember: (patch) => memory.merge(patch),
    }),
  };
  store.update({ actions: describeActions(definition.actions) });
  const deps = await definition.connect(config, ctx).catch((error: unknown) => {
    work.abort();
    throw error;
  });
  const reconciler = definition.reconcile;
  if (reconciler !== undefined)
    runner = new KeyedRunner({
      name: definition.name,
      reconciler,
      config,
      deps,
      store,
      clock,
      metrics,
      gate,
      contexts,
      loop: loopOptions,
      options: {
        ...defaultKeyedOptions,
        ...(reconciler.concurrency === undefined ? {} : { concurrency: reconciler.concurrency }),
        ...options.keyed,
      },
    });
  const keyed = runner;
  const loop = new AgentLoop({
    definition,
    config,
    deps,
    store,
    clock,
    metrics,
    options: loopOptions,
    memory,
    contexts,
    gate,
    ...(keyed === undefined || reconciler === undefined ? {} : { afterPass: (o: O) => keyed.sync(reconciler.keys(o)) }),
  });
  wakeLoop = loop.wake;
  const enqueue = keyed?.enqueue ?? wake;
  const watch: WatchContext<M> = {
    ...ctx,
    get memory() {
      return memory.current;
    },
    enqueue,
  };
  const actionContext = (actor: Actor): ActionContext<C, D, P> => ({
    ...ctx,
    config,
    deps,
    snapshot: store.getSnapshot(),
    actor,
  });
  const control = agentControl({
    name: definition.name,
    actions: definition.actions,
    store,
    metrics,
    context: actionContext,
    wake,
  });
  await options.beforeRun?.({ store, control, deps }).catch(async (error: unknown) => {
    work.abort();
    unforward?.();
    await definition.close(deps);
    throw error;
  });
  definition.wakeOn?.(deps, watch);
  const elected = leaderGate?.run(election.signal);
  const stopped = Promise.all([loop.run(work.signal), keyed?.run(work.signal)]).then(() => undefined);

  let closing: Promise<void> | undefined;
  return {
    name: definition.name,
    reader: store,
    control,
    store,
    deps,
    config,
    wake,
    enqueue,
    memory: () => memory.current,
    stopped,
    close: () => {
      closing ??= (async () => {
        work.abort();
        await stopped;
        await tasks.idle();
        election.abort();
        await elected;
        await definition.close(deps);
        unforward?.();
      })();
      return closing;
    },
  };
}
