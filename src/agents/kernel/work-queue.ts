interface Entry {
  readonly key: string;
  readonly at: number;
  readonly seq: number;
}

/**
 * The keyed work queue, with client-go's semantics and the time passed in (the caller owns the timers):
 * a key is pending at most once, and the earliest time asked for wins; a key added while it is being
 * processed runs again once it is done; at most `concurrency` keys are processed at once. Due keys come
 * out in order of their time, then of arrival.
 */
export class WorkQueue {
  private readonly pendingAt = new Map<string, Entry>();
  /** Min-heap on (at, seq); entries no longer in `pendingAt` are skipped lazily. */
  private readonly heap: Entry[] = [];
  private readonly active = new Set<string>();
  /** Keys added while processing, with the earliest time asked for. */
  private readonly again = new Map<string, number>();
  /** Keys forgotten while processing: done() does not bring them back. */
  private readonly dropped = new Set<string>();
  private seq = 0;

  constructor(readonly concurrency: number) {
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new RangeError('work queue concurrency must be a positive integer');
  }

  /** Asks for a run of `key` at `at` (ms); an earlier pending run is kept. */
  add(key: string, at: number): void {
    if (this.active.has(key)) {
      this.dropped.delete(key);
      const before = this.again.get(key);
      this.again.set(key, before === undefined ? at : Math.min(before, at));
      return;
    }
    const pending = this.pendingAt.get(key);
    if (pending !== undefined && pending.at <= at) return;
    const entry = { key, at, seq: this.seq++ };
    this.pendingAt.set(key, entry);
    this.push(entry);
  }

  /** The next key due by `now`, now being processed; undefined when none is due or the bound is reached. */
  take(now: number): string | undefined {
    if (this.active.size >= this.concurrency) return undefined;
    const top = this.peek();
    if (top === undefined || top.at > now) return undefined;
    this.pop();
    this.pendingAt.delete(top.key);
    this.active.add(top.key);
    return top.key;
  }

  /** Ends the processing of `key`; it runs again at `requeueAt`, or sooner if it was added meanwhile. */
  done(key: string, requeueAt?: number): void {
    if (!this.active.delete(key)) return;
    const again = this.again.get(key);
    this.again.delete(key);
    if (this.dropped.delete(key)) return;
    const times = [again, requeueAt].filter((t): t is number => t !== undefined);
    if (times.length > 0) this.add(key, Math.min(...times));
  }

  /** Drops a key's pending run, and any run asked for while it is being processed. */
  forget(key: string): void {
    this.pendingAt.delete(key);
    this.again.delete(key);
    if (this.active.has(key)) this.dropped.add(key);
  }

  /** When the earliest pending key is due; undefined when nothing is pending. */
  nextAt(): number | undefined {
    return this.peek()?.at;
  }

  get pending(): number {
    return this.pendingAt.size;
  }

  get processing(): number {
    return this.active.size;
  }

  private peek(): Entry | undefined {
    for (let top = this.heap[0]; top !== undefined; top = this.heap[0]) {
      if (this.pendingAt.get(top.key) === top) return top;
      this.pop();
    }
    return undefined;
  }

  private push(entry: Entry): void {
    const h = this.heap;
    h.push(entry);
    for (let i = h.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (!before(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop();
    if (last === undefined || h.length === 0) return;
    h[0] = last;
    for (let i = 0; ;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let min = i;
      if (l < h.length && before(h[l]!, h[min]!)) min = l;
      if (r < h.length && before(h[r]!, h[min]!)) min = r;
      if (min === i) return;
      [h[i], h[min]] = [h[min]!, h[i]!];
      i = min;
    }
  }
}

function before(a: Entry, b: Entry): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
