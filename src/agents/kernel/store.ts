import { sameData } from './same-data.js';
import { Journal, type JournalInput, type JournalSlice, type JournalEvent } from './journal.js';
import {
  initialHealth,
  type AgentIdentity,
  type AgentReader,
  type AgentSnapshot,
  type SourceInfo,
} from './snapshot.js';

type SnapshotPatch<S> = Partial<Omit<AgentSnapshot<S>, 'agent' | 'identity' | 'version' | 'updatedAt'>>;

/**
 * The agent's published face: an immutable snapshot replaced on change, plus the bounded journal.
 * In-process it is the AgentReader itself.
 */
export class AgentStore<S = unknown> implements AgentReader<S> {
  readonly journal: Journal;
  private snapshot: AgentSnapshot<S>;
  private readonly listeners = new Set<() => void>();
  private readonly now: () => number;

  constructor(
    readonly name: string,
    options: { journalCapacity?: number; now?: () => number; source?: SourceInfo; identity?: AgentIdentity } = {},
  ) {
    this.now = options.now ?? Date.now;
    this.journal = new Journal(name, options.journalCapacity, this.now);
    const snapshot: AgentSnapshot<S> = {
      agent: name,
      identity: options.identity ?? { kind: name, entity: name, instance: name, label: name },
      version: 0,
      updatedAt: this.now(),
      health: initialHealth,
      state: undefined,
      summary: 'starting',
      actions: [],
      source: options.source ?? { mode: 'in-process', connected: true, stale: false },
    };
    this.snapshot = Object.freeze(snapshot);
    this.journal.subscribe(() => this.notify());
  }

  getSnapshot(): AgentSnapshot<S> {
    return this.snapshot;
  }

  /** Replaces the snapshot when something really changed; returns whether it did. */
  update(patch: SnapshotPatch<S>): boolean {
    const changed = (Object.keys(patch) as (keyof SnapshotPatch<S>)[]).some(
      (key) => patch[key] !== undefined && !sameData(patch[key], this.snapshot[key]),
    );
    if (!changed) return false;
    const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
    this.snapshot = Object.freeze({
      ...this.snapshot,
      ...defined,
      version: this.snapshot.version + 1,
      updatedAt: this.now(),
    });
    this.notify();
    return true;
  }

  /** Takes a snapshot from elsewhere as it is (an attached agent), keeping its version. */
  replace(snapshot: AgentSnapshot<S>): void {
    this.snapshot = Object.freeze({ ...snapshot });
    this.notify();
  }

  record(input: JournalInput): JournalEvent {
    return this.journal.append(input);
  }

  events(fromSeq: number, limit?: number): JournalSlice {
    return this.journal.since(fromSeq, limit);
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }
}
