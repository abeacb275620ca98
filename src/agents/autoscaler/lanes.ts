/**
 * Runs tasks one after another per key and concurrently across keys: the events of one task, or of one
 * scale target, keep their stream order while events of other keys go ahead. A task's failure is its
 * caller's (the returned promise); the lane goes on with the next task.
 */
export class KeyedLanes {
  private readonly tails = new Map<string, Promise<void>>();

  run(key: string, task: () => Promise<void>): Promise<void> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const running = previous.then(task);
    const tail = running.then(settled, settled);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return running;
  }

  /** Keys with a task running or queued. */
  get active(): number {
    return this.tails.size;
  }
}

const settled = (): void => undefined;
