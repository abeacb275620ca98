import type { JournalEvent } from '../kernel/journal.js';
import type { AgentHealth, AgentReader, AgentSnapshot } from '../kernel/snapshot.js';
import { sseEvent } from './protocol.js';

/** Turns a wire value into its JSON text; injectable so a test can count the work. */
export type Serialize = (value: unknown) => string;

/** One SSE message; only journal events carry an `id:`. */
export function sseFrame(event: string, json: string, id?: number): string {
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${json}\n\n`;
}

/**
 * The text of the newest journal events, made once however many streams send them: live events and
 * a new stream's tail are shared. At most `capacity` frames are kept (a resuming stream owed the whole
 * ring makes the older ones again), and `clear()` frees them all once no stream is open.
 */
export class JournalFrames {
  private readonly cache = new Map<JournalEvent, string>();

  constructor(
    private readonly serialize: Serialize,
    private readonly capacity = 512,
  ) {}

  frame(event: JournalEvent): string {
    let text = this.cache.get(event);
    if (text === undefined) {
      text = sseFrame(sseEvent.journal, this.serialize(event), event.seq);
      this.cache.set(event, text);
      if (this.cache.size > this.capacity) this.cache.delete(this.cache.keys().next().value as JournalEvent);
    }
    return text;
  }

  /** Frames held now. */
  get size(): number {
    return this.cache.size;
  }

  clear(): void {
    this.cache.clear();
  }
}

/** Health fields that change on every pass: alone, they are not worth a push. */
const passTiming: ReadonlySet<string> = new Set(['lastPassAt', 'lastPassMs', 'passes']);
const bookkeeping: ReadonlySet<string> = new Set(['version', 'updatedAt', 'health']);

function healthWithoutTiming(health: AgentHealth): string {
  return JSON.stringify(Object.entries(health).filter(([key]) => !passTiming.has(key)));
}

/**
 * True when `next` differs from `prev` only in pass timing (`health.lastPassAt`, `lastPassMs`,
 * `passes`), its version and time. The store keeps the objects of unchanged fields, so the other
 * fields compare by reference; a new object counts as a change.
 */
export function onlyTimingChanged(prev: AgentSnapshot, next: AgentSnapshot): boolean {
  if (prev === next) return true;
  const a = prev as unknown as Record<string, unknown>;
  const b = next as unknown as Record<string, unknown>;
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (!bookkeeping.has(key) && a[key] !== b[key]) return false;
  }
  return prev.health === next.health || healthWithoutTiming(prev.health) === healthWithoutTiming(next.health);
}

export interface SnapshotFrame {
  readonly version: number;
  readonly frame: string;
}

/**
 * The `snapshot` every stream of one server sends: serialized once per published version, and
 * published only when more than pass timing changed. The timing rides along on the next real change
 * or on the refresh every `refreshMs`.
 */
export class SnapshotFeed {
  private published: AgentSnapshot;
  private checked: AgentSnapshot;
  private text: string | undefined;
  private readonly listeners = new Set<() => void>();
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(
    private readonly reader: AgentReader,
    private readonly serialize: Serialize,
    refreshMs: number,
  ) {
    this.published = reader.getSnapshot();
    this.checked = this.published;
    this.timer = setInterval(() => this.refresh(), refreshMs);
    this.timer.unref();
  }

  current(): SnapshotFrame {
    const latest = this.reader.getSnapshot();
    if (latest !== this.checked) {
      this.checked = latest;
      if (!onlyTimingChanged(this.published, latest)) this.publish(latest);
    }
    this.text ??= sseFrame(sseEvent.snapshot, this.serialize(this.published));
    return { version: this.published.version, frame: this.text };
  }

  /** Called when the refresh published timing-only changes (real changes reach streams through the reader). */
  onRefresh(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Streams waiting for refreshes. */
  get listening(): number {
    return this.listeners.size;
  }

  close(): void {
    clearInterval(this.timer);
    this.listeners.clear();
  }

  private refresh(): void {
    const latest = this.reader.getSnapshot();
    if (latest.version === this.published.version) return;
    this.checked = latest;
    this.publish(latest);
    for (const listener of this.listeners) listener();
  }

  private publish(snapshot: AgentSnapshot): void {
    this.published = snapshot;
    this.text = undefined;
  }
}
