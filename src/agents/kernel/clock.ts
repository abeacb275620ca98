import { onAbort } from './on-abort.js';

/** Time as a dependency: the loop, the journal and tests all read it from here. */
export interface Clock {
  now(): number;
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal.aborted) {
        resolve();
        return;
      }
      const timer = setTimeout(() => {
        withdraw();
        resolve();
      }, ms);
      const withdraw = onAbort(signal, () => {
        clearTimeout(timer);
        resolve();
      });
    }),
};
