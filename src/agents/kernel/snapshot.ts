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
  readonly connected: boolean;
  /** The state shown is the last one known, not live (attached source reconnecting). */
  readonly stale: boolean;
  readonly lastError?: string;
}

export interface AgentSnapshot<S = unknown> {
  readonly agent: string;
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

export interface AgentHandle<S = unknown> {
  readonly name: string;
  readonly reader: AgentReader<S>;
  readonly control: AgentControl;
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
