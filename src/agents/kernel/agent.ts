import type { ActContext, AgentContext, ObserveContext, WatchContext } from './context.js';
import type { DecisionEvent } from './journal.js';
import type { AnyKeyedReconciler } from './reconcile.js';
import type { Schema } from './schema.js';
import type { ActionPreview, ActionResult, Actor, AgentIdentity, AgentSnapshot, LogTail } from './snapshot.js';

/** What `decide` returns: the whole policy of one pass, computed without I/O. */
export interface Decision<A extends { readonly kind: string }, P> {
  readonly actions: readonly A[];
  /** One sentence a person can read: "promoting pg1: lease of pg0 expired, pg1 has the highest LSN". */
  readonly summary: string;
  /** Run the next pass after this many ms even if nothing wakes the loop. */
  readonly requeueAfterMs?: number;
  /** The state to publish (what the UI and `/state` show). */
  readonly publish: P;
  /** Events worth journaling beyond the summary (transitions, problems). */
  readonly events?: readonly DecisionEvent[];
}

export interface ActionContext<C, D, P> extends AgentContext {
  readonly config: C;
  readonly deps: D;
  readonly snapshot: AgentSnapshot<P>;
  readonly actor: Actor;
}

export interface UserAction<C, D, P, Args> {
  readonly description: string;
  readonly dangerous: boolean;
  readonly args: Schema<Args>;
  /** Human description of the arguments for help and `/state`. */
  readonly argsHelp: string;
  preview(ctx: ActionContext<C, D, P>, args: Args): Promise<ActionPreview>;
  invoke(ctx: ActionContext<C, D, P>, args: Args): Promise<ActionResult>;
}

/** A flag of `pgdeck --agent NAME`, mapped onto a key of the agent's config (flags > env > file). */
export interface CliOption {
  /** kebab-case flag name without dashes: `node`, `pg-port`. */
  readonly flag: string;
  /** Dotted key in the agent's config: `node`, `probeTimeoutMs`, `postgres.port`. */
  readonly key: string;
  readonly type: 'string' | 'number' | 'boolean';
  readonly describe: string;
  /** Environment variables read for this key, first found wins (`CITUS_HOST`, `PGDECK_NODE`). */
  readonly env?: readonly string[];
  readonly secret?: boolean;
}

/** The memory of an agent that remembers nothing between passes. */
export type NoMemory = Record<never, never>;

/**
 * One agent: observe -> pure decide -> act, plus its user actions. Generic over its config C,
 * dependencies D (adapters), observed snapshot O, action union A, published state P and memory M
 * (what must survive passes: kept by the kernel, read by observe, recorded by act).
 */
export interface AgentCore<C, D, O, A extends { readonly kind: string }, P, M> {
  readonly name: string;
  readonly description: string;
  readonly configSchema: Schema<C>;
  readonly cliOptions: readonly CliOption[];
  /** Which entity and instance this configuration runs (see AgentIdentity); the kind is `name`. */
  identify(config: C): Omit<AgentIdentity, 'kind'>;
  /** Builds the adapters. Must not fail because a dependency is down: outages are observed data. */
  connect(config: C, ctx: AgentContext): Promise<D>;
  observe(deps: D, ctx: ObserveContext<M>): Promise<O>;
  /** What of this observation the next pass must know (since when a standby stopped streaming); pure. */
  memorize?(observed: O): Partial<M>;
  decide(observed: O, now: number, config: C): Decision<A, P>;
  act(deps: D, action: A, ctx: ActContext<M>): Promise<void>;
  /** Which dependencies the last observation reached: readiness needs all of them. */
  reachability(observed: O): Record<string, boolean>;
  /** Watches that wake the loop early or enqueue keys; background work goes through `ctx.spawn`. */
  wakeOn?(deps: D, ctx: WatchContext<M>): void;
  /** Agents that manage many objects: each key is reconciled on its own through the kernel's work queue. */
  readonly reconcile?: AnyKeyedReconciler<C, D, O, M>;
  /**
   * With `kube-lease`, observe and decide run and publish on every replica, but `act` (and keyed act)
   * runs only on the replica holding the lease; startAgent needs a `leaderElector` then.
   */
  readonly leaderElection?: 'kube-lease';
  /** Extra HTTP routes for headless mode (`/primary`, `/replica`, `/history`). */
  routes?(deps: D, reader: () => AgentSnapshot<P>): readonly AgentRoute[];
  /** Log sources beside the agent's own journal (`daemon`), served by `GET /logs?source=NAME`. */
  logSources?(deps: D): Readonly<Record<string, LogSource>>;
  readonly actions: Readonly<Record<string, AnyUserAction<C, D, P>>>;
  close(deps: D): Promise<void>;
}

/** `initialMemory` may be left out only when an empty object is a valid memory. */
type MemoryDeclaration<C, M> = NoMemory extends M ? { initialMemory?(config: C): M } : { initialMemory(config: C): M };

export type AgentDefinition<C, D, O, A extends { readonly kind: string }, P, M extends object = NoMemory> = AgentCore<
  C,
  D,
  O,
  A,
  P,
  M
> &
  MemoryDeclaration<C, M>;

export interface AgentRoute {
  readonly method: 'GET';
  readonly path: string;
  handle(query: URLSearchParams): Promise<{ readonly status: number; readonly body: unknown }>;
}

/** Where an extra log source's lines come from: a file whose tail is read by bytes, or lines the agent reads itself. */
export type LogSource =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'lines'; read(lines: number): Promise<readonly string[]> };

/** Recent log lines of an agent by source, the same in-process and attached. */
export interface AgentLogs {
  logs(source: string, lines: number): Promise<LogTail>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each action has its own argument type
export type AnyUserAction<C, D, P> = UserAction<C, D, P, any>;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the registry holds agents of any shape
export type AnyAgentDefinition = AgentDefinition<any, any, any, { readonly kind: string }, any, any>;

/** What loading the config and the command line needs of an agent: its section's schema and its flags. */
export type AgentSettings = Pick<AnyAgentDefinition, 'configSchema' | 'cliOptions'>;
