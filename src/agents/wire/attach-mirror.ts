import type { JournalEvent, JournalSlice } from '../kernel/journal.js';
import type { AgentReader, AgentSnapshot, SourceInfo } from '../kernel/snapshot.js';
import { AgentStore } from '../kernel/store.js';

/**
 * The local copy of a remote agent: a store fed from the event stream. When the remote process
 * restarts (another instance, sequence numbers from 1 again) the copy starts over in a fresh store;
 * subscribers stay subscribed across that.
 */
export class MirrorReader<S> implements AgentReader<S> {
  private store: AgentStore<S>;
  private unsubscribeStore: () => void;
  private readonly listeners = new Set<() => void>();
  private source: SourceInfo;
  private remoteName: string | undefined;

  constructor(
    private readonly fallbackName: string,
    url: string,
    private readonly journalCapacity: number,
    via?: string,
  ) {
    this.source = { mode: 'attached', url, ...(via === undefined ? {} : { via }), connected: false, stale: true };
    this.store = this.newStore(fallbackName);
    this.unsubscribeStore = this.store.subscribe(() => this.notify());
  }

  get name(): string {
    return this.remoteName ?? this.fallbackName;
  }

  get lastSeq(): number {
    return this.store.journal.lastSeq;
  }

  getSnapshot(): AgentSnapshot<S> {
    return this.store.getSnapshot();
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  events(fromSeq: number, limit?: number): JournalSlice {
    return this.store.events(fromSeq, limit);
  }

  /** Forgets the journal (the remote restarted) but keeps the last state on screen until a new one comes. */
  reset(agentName: string): void {
    const last = this.store.getSnapshot();
    this.unsubscribeStore();
    this.remoteName = agentName;
    this.store = this.newStore(agentName);
    this.store.replace({ ...last, source: this.source });
    this.unsubscribeStore = this.store.subscribe(() => this.notify());
    this.notify();
  }

  learnName(agentName: string): void {
    this.remoteName = agentName;
  }

  applySnapshot(snapshot: AgentSnapshot<S>): void {
    this.store.replace({ ...snapshot, source: this.source });
  }

  applyEvent(event: JournalEvent): void {
    this.store.journal.mirror(event);
  }

  setSource(patch: Partial<Omit<SourceInfo, 'mode' | 'url' | 'via'>>): void {
    const next: SourceInfo = { ...this.source, ...patch };
    if (next.lastError === undefined) delete (next as { lastError?: string }).lastError;
    this.source = next;
    this.store.replace({ ...this.store.getSnapshot(), source: next });
  }

  private newStore(name: string): AgentStore<S> {
    return new AgentStore<S>(name, { journalCapacity: this.journalCapacity, source: this.source });
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }
}
