import type { ActionContext, AgentContext, AgentDefinition, AnyUserAction } from './agent.js';
import { systemClock, type Clock } from './clock.js';
import { PgdeckError, errorKind, errorMessage } from './errors.js';
import { journalLogger, type LineSink } from './logger.js';
import { AgentLoop, defaultLoopOptions, type LoopOptions } from './loop.js';
import { noMetrics, type AgentMetrics } from './metrics.js';
import { describeIssues } from './schema.js';
import type { ActionInfo, ActionPreview, ActionResult, Actor, AgentControl, AgentHandle } from './snapshot.js';
import { AgentStore } from './store.js';

export interface StartOptions {
  readonly clock?: Clock;
  readonly metrics?: AgentMetrics;
  /** Extra log sink (JSON lines in headless mode); the journal always gets the lines. */
  readonly logSink?: LineSink;
  readonly loop?: Partial<LoopOptions>;
  readonly journalCapacity?: number;
}

export interface RunningAgent<C, D, P> extends AgentHandle<P> {
  readonly store: AgentStore<P>;
  readonly deps: D;
  readonly config: C;
  readonly wake: () => void;
  /** Resolves when the loop has stopped (after `close()`). */
  readonly stopped: Promise<void>;
}

const systemActor: Actor = { who: 'unknown', via: 'api' };

/** Starts one agent in this process: connects its adapters, runs its loop, serves its actions. */
export async function startAgent<C, D, O, A extends { readonly kind: string }, P>(
  definition: AgentDefinition<C, D, O, A, P>,
  config: C,
  options: StartOptions = {},
): Promise<RunningAgent<C, D, P>> {
  const clock = options.clock ?? systemClock;
  const metrics = options.metrics ?? noMetrics;
  const store = new AgentStore<P>(definition.name, {
    journalCapacity: options.journalCapacity ?? 5000,
    now: () => clock.now(),
    identity: { kind: definition.name, ...definition.identify(config) },
  });
  const log = journalLogger(store.journal, options.logSink, { agent: definition.name });
  const sink = options.logSink;
  const unforward =
    sink === undefined
      ? undefined
      : store.journal.subscribe((e) => {
          if (e.kind !== 'log') sink(e.severity, e.message, { agent: definition.name, kind: e.kind, ...e.fields });
        });
  const abort = new AbortController();
  const ctx: AgentContext = { signal: abort.signal, log, clock };
  store.update({ actions: describeActions(definition.actions) });
  const deps = await definition.connect(config, ctx);
  const loop = new AgentLoop({
    definition,
    config,
    deps,
    store,
    clock,
    log,
    metrics,
    options: { ...defaultLoopOptions, ...options.loop },
  });
  definition.wakeOn?.(deps, loop.wake, abort.signal);
  const stopped = loop.run(abort.signal);

  const actionContext = (actor: Actor): ActionContext<C, D, P> => ({
    ...ctx,
    config,
    deps,
    snapshot: store.getSnapshot(),
    actor,
    wake: loop.wake,
  });

  const resolve = (name: string, args: unknown): { action: AnyUserAction<C, D, P>; parsed: unknown } => {
    const action = Object.hasOwn(definition.actions, name) ? definition.actions[name] : undefined;
    if (action === undefined) throw new PgdeckError('not-found', `agent ${definition.name} has no action "${name}"`);
    const result = action.args.safeParse(args ?? {});
    if (!result.success) {
      const { field, message } = describeIssues(result.error.issues);
      throw new PgdeckError('invalid-argument', `${field}: ${message}`, { field });
    }
    return { action, parsed: result.data };
  };

  const control: AgentControl = {
    async preview(name, args, actor = systemActor): Promise<ActionPreview> {
      const { action, parsed } = resolve(name, args);
      return action.preview(actionContext(actor), parsed);
    },
    async invoke(name, args, actor = systemActor): Promise<ActionResult> {
      const { action, parsed } = resolve(name, args);
      store.record({
        severity: 'info',
        kind: 'action-invoked',
        message: `${actor.who} via ${actor.via} invoked ${name}`,
        fields: { action: name, args: parsed, actor },
      });
      try {
        const result = await action.invoke(actionContext(actor), parsed);
        metrics.action(definition.name, name, result.ok ? 'ok' : 'refused');
        store.record({
          severity: result.ok ? 'info' : 'warn',
          kind: result.ok ? 'action-succeeded' : 'action-refused',
          message: `${name}: ${result.message}`,
          fields: { action: name, actor, ...result.fields },
        });
        loop.wake();
        return result;
      } catch (error) {
        metrics.action(definition.name, name, 'error');
        store.record({
          severity: 'error',
          kind: 'action-failed',
          message: `${name} failed (${errorKind(error)}): ${errorMessage(error)}`,
          fields: { action: name, actor },
        });
        throw error;
      }
    },
  };

  let closing: Promise<void> | undefined;
  return {
    name: definition.name,
    reader: store,
    control,
    store,
    deps,
    config,
    wake: loop.wake,
    stopped,
    close: () => {
      closing ??= (async () => {
        abort.abort();
        await stopped;
        await definition.close(deps);
        unforward?.();
      })();
      return closing;
    },
  };
}

export function describeActions<C, D, P>(actions: Readonly<Record<string, AnyUserAction<C, D, P>>>): ActionInfo[] {
  return Object.entries(actions).map(([name, a]) => ({
    name,
    description: a.description,
    dangerous: a.dangerous,
    args: a.argsHelp,
  }));
}
