import { performance } from 'node:perf_hooks';
import type { AgentReader } from '../../src/agents/kernel/snapshot.js';

/** What the runtime bench needs from a reader, wherever it runs. */
export interface Subscriber {
  lastSeq(): number;
  /** Resolves once `check` holds, re-checked whenever the subscriber hears of a change. */
  until(check: () => boolean): Promise<void>;
  /** `performance.now()` (this process's scale) when the subscriber saw a snapshot with `summary`. */
  seen(summary: string): Promise<number>;
  close(): Promise<void>;
}

/** A reader in this process: the store itself, or an attached mirror. */
export function readerSubscriber(reader: AgentReader, close: () => Promise<void> = async () => undefined): Subscriber {
  const lastSeq = (): number => reader.events(0, 0).lastSeq;
  const until = (check: () => boolean): Promise<void> => {
    if (check()) return Promise.resolve();
    return new Promise((resolve) => {
      const off = reader.subscribe(() => {
        if (!check()) return;
        off();
        resolve();
      });
    });
  };
  return {
    lastSeq,
    until,
    seen: (summary) => until(() => reader.getSnapshot().summary === summary).then(() => performance.now()),
    close,
  };
}
