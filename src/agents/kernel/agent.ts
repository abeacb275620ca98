import type { Clock } from './clock.js';
import type { Logger } from './logger.js';
import type { Schema } from './schema.js';
import type { ActionPreview, ActionResult, Actor, AgentIdentity, AgentSnapshot } from './snapshot.js';

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
  readonly events?: readonly {
    readonly severity: 'info' | 'warn' | 'error';
    readonly kind: string;
    readonly message: string;
    readonly fields?: Record<string, unknown>;
  }[];
}

export interface AgentContext {
  readonly signal: AbortSignal;
  readonly log: Logger;
  readonly clock: Clock;
}

export interface ActionContext<C, D, P> extends AgentContext {
  readonly config: C;
  readonly deps: D;
  readonly snapshot: AgentSnapshot<P>;
  readonly actor: Actor;
  /** Wake the loop so the change is observed at once. */
  readonly wake: () => void;
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
  /** kebab-case flag name without dashes: `node`, `failover-timeout`. */
  readonly flag: string;
  /** Dotted key in the agent's config: `node`, `failoverTimeoutMs`, `postgres.port`. */
  readonly key: string;
  readonly type: 'string' | 'number' | 'boolean';
  readonly describe: string;
  /** Environment variables read for this key, first found wins (`CITUS_HOST`, `PGDECK_NODE`). */
  readonly env?: readonly string[];
  readonly secret?: boolean;
}

/**
 * One agent: observe -> pure decide -> act, plus its user actions. Generic over its config C,
 * dependencies D (adapters), observed snapshot O, action union A and published state P.
 */
export interface AgentDefinition<C, D, O, A extends { readonly kind: string }, P> {
  readonly name: string;
  readonly description: string;
  readonly configSchema: Schema<C>;
  readonly cliOptions: readonly CliOption[];
  /** Which entity and instance this configuration runs (see AgentIdentity); the kind is `name`. */
  identify(config: C): Omit<AgentIdentity, 'kind'>;
  /** Builds the adapters. Must not fail because a dependency is down: outages are observed data. */
  connect(config: C, ctx: AgentContext): Promise<D>;
  observe(deps: D, signal: AbortSignal): Promise<O>;
  decide(observed: O, now: number, config: C): Decision<A, P>;
  act(deps: D, action: A, signal: AbortSignal): Promise<void>;
  /** Which dependencies the last observation reached: readiness needs all of them. */
  reachability(observed: O): Record<string, boolean>;
  /** Watches that wake the loop early; must stop when the signal aborts. */
  wakeOn?(deps: D, wake: () => void, signal: AbortSignal): void;
  /** Extra HTTP routes for headless mode (`/primary`, `/replica`, `/history`). */
  routes?(deps: D, reader: () => AgentSnapshot<P>): readonly AgentRoute[];
  /** Log sources beside the agent's own journal (`daemon`), served by `GET /logs?source=NAME`. */
  logSources?(deps: D): Readonly<Record<string, LogSource>>;
  readonly actions: Readonly<Record<string, AnyUserAction<C, D, P>>>;
  close(deps: D): Promise<void>;
}

export interface AgentRoute {
  readonly method: 'GET';
  readonly path: string;
  handle(query: URLSearchParams): Promise<{ readonly status: number; readonly body: unknown }>;
}

/** Where an extra log source's lines come from: a file whose tail is read by bytes, or lines the agent reads itself. */
export type LogSource =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'lines'; read(lines: number): Promise<readonly string[]> };

/** The newest lines of one log source, secrets masked. */
export interface LogTail {
  readonly source: string;
  readonly lines: readonly string[];
  /** Every source this agent offers (`daemon` first). */
  readonly sources: readonly string[];
}

/** Recent log lines of an agent by source, the same in-process and attached. */
export interface AgentLogs {
  logs(source: string, lines: number): Promise<LogTail>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each action has its own argument type
export type AnyUserAction<C, D, P> = UserAction<C, D, P, any>;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the registry holds agents of any shape
export type AnyAgentDefinition = AgentDefinition<any, any, any, { readonly kind: string }, any>;
