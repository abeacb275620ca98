import type { ErrorKind } from './errors.js';
import type { JournalSlice } from './journal.js';

export type HealthStatus = 'starting' | 'ok' | 'degraded' | 'failing' | 'stopped';

export interface AgentHealth {
  readonly status: HealthStatus;
  /** The loop is running and no pass is stuck. */
  readonly live: boolean;
  /** A pass has succeeded and every dependency was reachable on the last one. */
  readonly ready: boolean;
  readonly passes: number;
  readonly consecutiveErrors: number;
  readonly lastPassAt?: number;
  readonly lastPassMs?: number;
  readonly lastError?: { readonly kind: ErrorKind; readonly message: string };
  readonly stuckSinceMs?: number;
  readonly dependencies: Readonly<Record<string, boolean>>;
}

export interface ActionInfo {
  readonly name: string;
  readonly description: string;
  /** Changes something: needs a preview and a confirmation, and read-only mode removes it. */
  readonly dangerous: boolean;
  /** Human description of the arguments, e.g. `{candidate?: string}`. */
  readonly args: string;
}

export interface SourceInfo {
  readonly mode: 'in-process' | 'attached';
  readonly url?: string;
  /** How an attached source is reached when `url` is a local relay: `service proxy ns/svc:api`. */
  readonly via?: string;
  readonly connected: boolean;
  /** The state shown is the last one known, not live (attached source reconnecting). */
  readonly stale: boolean;
  readonly lastError?: string;
}

/**
 * Who published a snapshot. The console merges the instances that share `kind` and `entity` into one
 * entity (one PostgreSQL cluster out of its daemons) and sends an action to an instance of the selected
 * row's own entity.
 */
export interface AgentIdentity {
  /** The agent's definition name: `citus-sync`, `autoscaler`. */
  readonly kind: string;
  /** The real thing this instance belongs to, shared by its peers: a cluster's name. */
  readonly entity: string;
  /** Unique among all instances of this kind: `main/pg0` (cluster/member), a pod name for a replica. */
  readonly instance: string;
  /** Short name for a source column: `pg0`. */
  readonly label: string;
}

/** Who leads the instances of an entity, for agents with a leader (the kube-lease gate, an agent's own election). */
export interface LeadershipInfo {
  /** This instance leads now. */
  readonly leading: boolean;
  /** The current holder's instance name, null when nobody holds it or it is unknown. */
  readonly holder: string | null;
  /** When the holder's lease runs out unless renewed (ms since epoch). */
  readonly until?: number;
}

export type KeyPhase = 'pending' | 'ok' | 'retrying' | 'gave-up';

/** One key of a keyed agent, as its last reconcile left it. */
export interface KeyStatus {
  readonly key: string;
  readonly phase: KeyPhase;
  /** The summary of the last successful reconcile, or the failure. */
  readonly summary: string;
  /** Consecutive failed reconciles. */
  readonly attempts: number;
  readonly lastAt?: number;
  /** When it runs next (absent once given up). */
  readonly nextAt?: number;
  readonly lastError?: { readonly kind: ErrorKind; readonly message: string };
}

/** What a keyed agent's reconciles look like: counts of every key, and a bounded list, the troubled first. */
export interface ReconcileStatus {
  readonly total: number;
  readonly counts: Readonly<Record<KeyPhase, number>>;
  readonly keys: readonly KeyStatus[];
  /** Keys left out of `keys` to keep the snapshot small. */
  readonly omitted: number;
}

export interface AgentSnapshot<S = unknown> {
  /** The agent's definition name (same as `identity.kind`). */
  readonly agent: string;
  readonly identity: AgentIdentity;
  readonly leadership?: LeadershipInfo;
  /** Keyed agents only: the status of their keys, aggregated by the kernel. */
  readonly reconciles?: ReconcileStatus;
  readonly version: number;
  readonly updatedAt: number;
  readonly health: AgentHealth;
  /** What the agent's `decide` published on its last pass. */
  readonly state: S | undefined;
  /** The one-sentence summary of the last pass. */
  readonly summary: string;
  readonly actions: readonly ActionInfo[];
  readonly source: SourceInfo;
}

export interface Actor {
  readonly who: string;
  readonly via: 'tui' | 'api' | 'cli' | 'test';
}

export interface ActionPreview {
  readonly action: string;
  /** Whether invoking with these arguments would be accepted now. */
  readonly allowed: boolean;
  readonly summary: string;
  readonly effects: readonly string[];
  readonly reason?: string;
  readonly dataLossBytes?: number;
  readonly restarts?: readonly string[];
  readonly fields?: Readonly<Record<string, unknown>>;
}

export interface ActionResult {
  readonly action: string;
  readonly ok: boolean;
  readonly message: string;
  readonly fields?: Readonly<Record<string, unknown>>;
}

/** Read side of an agent, the same in-process and attached. */
export interface AgentReader<S = unknown> {
  readonly name: string;
  getSnapshot(): AgentSnapshot<S>;
  /** Called after any change: a new snapshot or new journal events. */
  subscribe(listener: () => void): () => void;
  events(fromSeq: number, limit?: number): JournalSlice;
}

/** Write side: user actions, previewed and invoked, audited by the agent. */
export interface AgentControl {
  preview(name: string, args: unknown, actor?: Actor): Promise<ActionPreview>;
  invoke(name: string, args: unknown, actor?: Actor): Promise<ActionResult>;
}

/** The newest lines of one log source, secrets masked. */
export interface LogTail {
  readonly source: string;
  readonly lines: readonly string[];
  /** Every source this agent offers (`daemon` first). */
  readonly sources: readonly string[];
}

export interface AgentHandle<S = unknown> {
  readonly name: string;
  readonly reader: AgentReader<S>;
  readonly control: AgentControl;
  /** Recent log lines by source (`daemon` first, then the agent's own, e.g. a server log), where the handle offers them. */
  readonly logs?: (source: string, lines: number) => Promise<LogTail>;
  close(): Promise<void>;
}

export const initialHealth: AgentHealth = Object.freeze({
  status: 'starting',
  live: true,
  ready: false,
  passes: 0,
  consecutiveErrors: 0,
  dependencies: Object.freeze({}),
});
