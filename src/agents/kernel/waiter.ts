import type { Clock } from './clock.js';
import { onAbort } from './on-abort.js';

/** The abort reason of a poked sleep: without one, every abort would build a DOMException (a stack trace). */
const poked = 'poked';

/** A sleep that a poke ends early; pokes made while nobody waits end the next wait at once. */
export class Waiter {
  private poked = false;
  private release: (() => void) | undefined;

  constructor(private readonly clock: Clock) {}

  poke = (): void => {
    this.poked = true;
    this.release?.();
  };

  /** Forgets pokes made so far (a pass is starting and will see what they announced). */
  clear(): void {
    this.poked = false;
  }

  /** Whether a poke came since the last `clear` or wait. */
  get pending(): boolean {
    return this.poked;
  }

  async wait(ms: number, signal: AbortSignal): Promise<void> {
    if (this.poked || signal.aborted) {
      this.poked = false;
      return;
    }
    const inner = new AbortController();
    this.release = () => inner.abort(poked);
    const withdraw = onAbort(signal, () => inner.abort(poked));
    try {
      await this.clock.sleep(ms, inner.signal);
    } finally {
      withdraw();
      this.release = undefined;
      this.poked = false;
    }
  }
}
