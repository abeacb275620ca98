import { performance } from 'node:perf_hooks';

/**
 * The streams of one server that have something to write, flushed in turn within a time budget per
 * event-loop turn. One `setImmediate` per stream would not do: Node runs every queued immediate in
 * the same turn, so a hundred streams catching up at once would still hold the loop for all of them.
 */
export class FlushQueue {
  private readonly pending = new Set<() => void>();
  private scheduled = false;
  private accepting = false;

  constructor(private readonly budgetMs = 4) {}

  /**
   * The server accepted a connection in this turn. libuv accepts one connection per event-loop turn,
   * so while a burst waits in the kernel's accept queue every turn's flushing delays the rest of the
   * burst, and a health probe queued behind it: this turn writes nothing, and the streams go on once
   * the burst is in.
   */
  accepted(): void {
    this.accepting = true;
  }

  add(flush: () => void): void {
    this.pending.add(flush);
    this.schedule();
  }

  delete(flush: () => void): void {
    this.pending.delete(flush);
  }

  /** Streams waiting for their turn. */
  get size(): number {
    return this.pending.size;
  }

  private schedule(): void {
    if (this.scheduled || this.pending.size === 0) return;
    this.scheduled = true;
    setImmediate(this.run);
  }

  private readonly run = (): void => {
    this.scheduled = false;
    if (this.accepting) {
      this.accepting = false;
      this.schedule();
      return;
    }
    const deadline = performance.now() + this.budgetMs;
    for (const flush of this.pending) {
      this.pending.delete(flush);
      flush();
      if (performance.now() >= deadline) break;
    }
    this.schedule();
  };
}
