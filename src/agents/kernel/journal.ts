import { redact, redactText } from './redact.js';

export type Severity = 'debug' | 'info' | 'warn' | 'error';

export interface JournalEvent {
  readonly seq: number;
  readonly time: number;
  readonly agent: string;
  readonly severity: Severity;
  /** Stable machine name: `decided`, `pass-failed`, `action-invoked`, `promotion-started`, ... */
  readonly kind: string;
  readonly message: string;
  readonly fields?: Readonly<Record<string, unknown>>;
}

export type JournalInput = Omit<JournalEvent, 'seq' | 'time' | 'agent'> & {
  readonly agent?: string;
  readonly time?: number;
};

/** An event a decision asks the kernel to journal (transitions, problems), beyond its summary. */
export interface DecisionEvent {
  readonly severity: 'info' | 'warn' | 'error';
  readonly kind: string;
  readonly message: string;
  readonly fields?: Record<string, unknown>;
}

export interface JournalSlice {
  readonly events: readonly JournalEvent[];
  /** True when events after `fromSeq` were already dropped from the ring: the reader missed some. */
  readonly gap: boolean;
  readonly lastSeq: number;
}

/**
 * A bounded, sequence-numbered event journal. Sequence numbers start at 1 and never repeat; the ring
 * keeps the newest `capacity` events. Readers resume with `since(lastSeenSeq)`.
 */
export class Journal {
  readonly capacity: number;
  private readonly ring: (JournalEvent | undefined)[];
  private nextSeq = 1;
  private readonly listeners = new Set<(event: JournalEvent) => void>();

  constructor(
    private readonly agent: string,
    capacity = 2000,
    private readonly now: () => number = Date.now,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError('journal capacity must be a positive integer');
    this.capacity = capacity;
    this.ring = new Array<JournalEvent | undefined>(capacity);
  }

  append(input: JournalInput): JournalEvent {
    const seq = this.nextSeq++;
    const event: JournalEvent = Object.freeze({
      seq,
      time: input.time ?? this.now(),
      agent: input.agent ?? this.agent,
      severity: input.severity,
      kind: input.kind,
      message: redactText(input.message),
      ...(input.fields === undefined ? {} : { fields: Object.freeze(redact({ ...input.fields })) }),
    });
    this.ring[seq % this.capacity] = event;
    for (const listener of this.listeners) listener(event);
    return event;
  }

  /** Keeps the sequence going on from an event seen elsewhere (an attached agent's journal). */
  mirror(event: JournalEvent): void {
    if (event.seq < this.nextSeq) return;
    this.nextSeq = event.seq + 1;
    this.ring[event.seq % this.capacity] = event;
    for (const listener of this.listeners) listener(event);
  }

  get lastSeq(): number {
    return this.nextSeq - 1;
  }

  get firstSeq(): number {
    return Math.max(1, this.nextSeq - this.capacity);
  }

  since(fromSeq: number, limit = this.capacity): JournalSlice {
    const last = this.lastSeq;
    const start = Math.max(fromSeq + 1, this.firstSeq);
    const events: JournalEvent[] = [];
    for (let seq = start; seq <= last && events.length < limit; seq++) {
      const event = this.ring[seq % this.capacity];
      if (event !== undefined && event.seq === seq) events.push(event);
    }
    return { events, gap: fromSeq + 1 < this.firstSeq && last > 0, lastSeq: last };
  }

  subscribe(listener: (event: JournalEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
