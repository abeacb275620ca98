import { readFile } from 'node:fs/promises';
import WebSocket from 'ws';
import { waitUntil } from '../../src/lab/procs/daemon.js';

/** What a node process started with it prints when SIGUSR1 opens its inspector on a free port. */
export const INSPECT_ON_SIGNAL = '--inspect-port=127.0.0.1:0';
const LISTENING = /Debugger listening on (ws:\/\/\S+)/g;

/**
 * A full garbage collection in another node process (one started with `INSPECT_ON_SIGNAL` in its
 * NODE_OPTIONS, its stderr in `logFile`): SIGUSR1 opens its inspector, then
 * `HeapProfiler.collectGarbage`. A heap figure read after it counts what the process retains, not
 * garbage V8 had no reason to collect yet.
 */
export async function collectGarbage(pid: number, logFile: string, timeoutMs = 10_000): Promise<void> {
  process.kill(pid, 'SIGUSR1');
  let url: string | undefined;
  await waitUntil(
    `the inspector of pid ${pid}`,
    async () => {
      url = [...(await readFile(logFile, 'utf8')).matchAll(LISTENING)].at(-1)?.[1];
      return url !== undefined;
    },
    timeoutMs,
    { logFile },
  );
  const socket = new WebSocket(url!);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer from the inspector at ${url}`)), timeoutMs);
      socket.once('error', reject);
      socket.once('open', () => socket.send(JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' })));
      socket.on('message', (data: Buffer) => {
        if ((JSON.parse(data.toString()) as { id?: number }).id !== 1) return;
        clearTimeout(timer);
        resolve();
      });
    });
  } finally {
    socket.close();
  }
}
