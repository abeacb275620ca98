import { errorKind, errorMessage } from './errors.js';
import type { Logger } from './logger.js';

/** The agent's background tasks: each gets the agent's signal, a failure is logged, `idle()` waits for all. */
export class TaskGroup {
  private readonly tasks = new Set<Promise<void>>();

  constructor(
    private readonly signal: AbortSignal,
    private readonly log: Logger,
  ) {}

  spawn = (name: string, task: (signal: AbortSignal) => Promise<void>): void => {
    const run: Promise<void> = Promise.resolve()
      .then(() => task(this.signal))
      .catch((error: unknown) => {
        if (!this.signal.aborted)
          this.log.warn(`background task ${name} failed (${errorKind(error)}): ${errorMessage(error)}`, { task: name });
      })
      .finally(() => this.tasks.delete(run));
    this.tasks.add(run);
  };

  async idle(): Promise<void> {
    while (this.tasks.size > 0) await Promise.all([...this.tasks]);
  }
}
