import type { JournalEvent } from '../../agents/kernel/journal.js';
import type { AgentReader, AgentSnapshot } from '../../agents/kernel/snapshot.js';

export interface UiSnapshot {
  readonly agents: readonly AgentSnapshot[];
  /** Newest last, every agent's journal merged by time, at most `eventCapacity`. */
  readonly events: readonly JournalEvent[];
  readonly version: number;
}

/**
 * Subscribes to every agent reader and hands React a new snapshot at most `maxFlushesPerSecond`
 * times a second, however fast the agents change (k8s watches, etcd, journal floods).
 */
export class UiStore {
  private current: UiSnapshot;
  private readonly listeners = new Set<() => void>();
  private readonly lastSeq = new Map<string, number>();
  private readonly unsubscribers: (() => void)[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastFlush = 0;
  private events: JournalEvent[] = [];

  constructor(
    private readonly readers: readonly AgentReader[],
    private readonly options: { readonly maxFlushesPerSecond?: number; readonly eventCapacity?: number } = {},
  ) {
    this.current = this.build(0);
    for (const reader of readers) this.unsubscribers.push(reader.subscribe(() => this.schedule()));
  }

  getSnapshot = (): UiSnapshot => this.current;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  close(): void {
    for (const unsubscribe of this.unsubscribers) unsubscribe();
    if (this.timer !== undefined) clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.timer !== undefined) return;
    const interval = 1000 / (this.options.maxFlushesPerSecond ?? 10);
    const wait = Math.max(0, this.lastFlush + interval - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.lastFlush = Date.now();
      this.current = this.build(this.current.version + 1);
      for (const listener of this.listeners) listener();
    }, wait);
  }

  private build(version: number): UiSnapshot {
    const capacity = this.options.eventCapacity ?? 1000;
    const fresh: JournalEvent[] = [];
    for (const reader of this.readers) {
      const slice = reader.events(this.lastSeq.get(reader.name) ?? 0, capacity);
      const last = slice.events.at(-1);
      if (last !== undefined) this.lastSeq.set(reader.name, last.seq);
      fresh.push(...slice.events);
    }
    if (fresh.length > 0)
      this.events = [...this.events, ...fresh].sort((a, b) => a.time - b.time || a.seq - b.seq).slice(-capacity);
    return { agents: this.readers.map((r) => r.getSnapshot()), events: this.events, version };
  }
}
