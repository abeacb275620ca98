import { performance } from 'node:perf_hooks';

/**
 * The streams of one server that have something to write, flushed in turn within a time budget per
 * event-loop turn. One `setImmediate` per stream would not do: Node runs every queued immediate in
 * the same turn, so a hundred streams catching up at once would still hold the loop for all of them.
 */
export class FlushQueue {
  private readonly pending = new Set<() => void>();
  private scheduled = false;

  constructor(private readonly budgetMs = 4) {}

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
    const deadline = performance.now() + this.budgetMs;
    for (const flush of this.pending) {
      this.pending.delete(flush);
      flush();
      if (performance.now() >= deadline) break;
    }
    this.schedule();
  };
}
