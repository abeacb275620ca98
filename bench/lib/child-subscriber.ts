import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Subscriber } from './subscriber.js';

const script = join(dirname(fileURLToPath(import.meta.url)), 'remote-subscriber.ts');

/** An attached reader in a child process (its own core), driven through its stdout reports. */
export async function childSubscriber(url: string, token: string): Promise<Subscriber> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, url, token], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let seq = 0;
  const seenAt = new Map<string, number>();
  const waiters = new Set<() => void>();
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => {
    if (line.startsWith('Q ')) seq = Number(line.slice(2));
    else if (line.startsWith('S ')) {
      const space = line.indexOf(' ', 2);
      seenAt.set(line.slice(space + 1), Number(line.slice(2, space)) - performance.timeOrigin);
    }
    for (const waiter of waiters) waiter();
  });
  const until = (check: () => boolean): Promise<void> => {
    if (check()) return Promise.resolve();
    return new Promise((resolve) => {
      const waiter = (): void => {
        if (!check()) return;
        waiters.delete(waiter);
        resolve();
      };
      waiters.add(waiter);
    });
  };
  await until(() => seq > 0);
  return {
    lastSeq: () => seq,
    until,
    seen: async (summary) => {
      await until(() => seenAt.has(summary));
      const at = seenAt.get(summary) ?? Number.NaN;
      seenAt.delete(summary);
      return at;
    },
    close: async () => {
      child.stdin.end();
      await once(child, 'exit');
    },
  };
}
