import type { AgentControl } from '../../agents/kernel/snapshot.js';
import type { SourceView, UiEvent } from '../module.js';
import { logsOf, sourceView, type ConsoleSource, type LogsFn } from './sources.js';

export interface UiSnapshot {
  readonly sources: readonly SourceView[];
  /** Oldest first, every instance's journal merged by time, at most `eventCapacity`. */
  readonly events: readonly UiEvent[];
  readonly version: number;
}

/** How many events (of all sources together) the console keeps. */
export const CONSOLE_EVENT_CAPACITY = 1000;

interface Tracked {
  readonly input: ConsoleSource;
  readonly logs: LogsFn | undefined;
  lastSeq: number;
  view: SourceView | undefined;
}

/**
 * Subscribes to every source and hands React a new snapshot at most `maxFlushesPerSecond` times a
 * second, however fast the agents change. Events are read per source and keyed by instance and
 * sequence, so daemons of the same kind never shadow each other.
 */
export class UiStore {
  private current: UiSnapshot = { sources: [], events: [], version: -1 };
  private readonly listeners = new Set<() => void>();
  private readonly tracked: Tracked[];
  private readonly unsubscribers: (() => void)[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastFlush = 0;
  private events: UiEvent[] = [];
  private readonly seen = new Set<string>();

  constructor(
    sources: readonly ConsoleSource[],
    private readonly options: { readonly maxFlushesPerSecond?: number; readonly eventCapacity?: number } = {},
  ) {
    this.tracked = sources.map((input) => ({ input, logs: logsOf(input), lastSeq: 0, view: undefined }));
    this.current = this.build(0);
    for (const t of this.tracked) this.unsubscribers.push(t.input.reader.subscribe(() => this.schedule()));
  }

  getSnapshot = (): UiSnapshot => this.current;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** More sources, after the ones it started with (a launcher attached them): their ids follow on. */
  add(sources: readonly ConsoleSource[]): void {
    for (const input of sources) {
      this.tracked.push({ input, logs: logsOf(input), lastSeq: 0, view: undefined });
      this.unsubscribers.push(input.reader.subscribe(() => this.schedule()));
    }
    this.schedule();
  }

  control(sourceId: string): AgentControl | undefined {
    return this.byId(sourceId)?.input.control;
  }

  logs(sourceId: string): LogsFn | undefined {
    return this.byId(sourceId)?.logs;
  }

  close(): void {
    for (const unsubscribe of this.unsubscribers) unsubscribe();
    if (this.timer !== undefined) clearTimeout(this.timer);
  }

  private byId(sourceId: string): Tracked | undefined {
    return this.tracked[Number(sourceId.slice(1))];
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
    const capacity = this.options.eventCapacity ?? CONSOLE_EVENT_CAPACITY;
    const fresh: UiEvent[] = [];
    const sources = this.tracked.map((t, i) => {
      const snapshot = t.input.reader.getSnapshot();
      if (t.view?.snapshot !== snapshot)
        t.view = sourceView(`s${i}`, snapshot, t.input.control !== undefined, t.logs !== undefined);
      this.read(t, t.view, capacity, fresh);
      return t.view;
    });
    // The same array while no source changed (a flush of events only), so what derives from the
    // sources (entities, their merge, the header) is not derived again.
    const previous = this.current?.sources;
    const same =
      previous !== undefined && previous.length === sources.length && sources.every((s, i) => s === previous[i]);
    if (fresh.length > 0) {
      const merged = [...this.events, ...fresh].sort((a, b) => a.event.time - b.event.time);
      const dropped = merged.length - capacity;
      if (dropped > 0) for (const e of merged.slice(0, dropped)) this.seen.delete(e.key);
      this.events = dropped > 0 ? merged.slice(dropped) : merged;
    }
    return { sources: same ? previous : sources, events: this.events, version };
  }

  private read(t: Tracked, view: SourceView, capacity: number, into: UiEvent[]): void {
    let slice = t.input.reader.events(t.lastSeq, capacity);
    // The journal starts over when an attached agent restarted: read it again from its start.
    if (slice.lastSeq < t.lastSeq) slice = t.input.reader.events((t.lastSeq = 0), capacity);
    const { kind, entity, instance, label } = view.snapshot.identity;
    for (const event of slice.events) {
      const key = `${instance}#${event.seq}@${event.time}`;
      if (this.seen.has(key)) continue;
      this.seen.add(key);
      into.push({ key, sourceId: view.id, kind, entity, instance, label, event });
    }
    const last = slice.events.at(-1);
    if (last !== undefined) t.lastSeq = last.seq;
  }
}
