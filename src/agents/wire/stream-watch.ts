import { readFile } from 'node:fs/promises';
import type { EventStream } from './serve-events.js';

/**
 * Bytes each connection to `localPort` has sent but the peer has not acknowledged (`tx_queue` of
 * Linux's /proc/net/tcp and tcp6), by the peer's port. A port seen twice (two peer addresses) is
 * left out. Null where the tables cannot be read (not Linux).
 */
export async function unackedBytes(localPort: number): Promise<Map<number, number> | null> {
  const tables = await Promise.all(
    ['/proc/net/tcp', '/proc/net/tcp6'].map((path) => readFile(path, 'utf8').catch(() => null)),
  );
  if (tables.every((t) => t === null)) return null;
  const found = new Map<number, number>();
  const twice = new Set<number>();
  const local = `:${localPort.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const table of tables) {
    for (const line of (table ?? '').split('\n')) {
      const [, localAddress, remoteAddress, state, queues] = line.trim().split(/\s+/);
      if (state !== '01' || localAddress?.endsWith(local) !== true || remoteAddress === undefined) continue;
      const remotePort = parseInt(remoteAddress.slice(remoteAddress.lastIndexOf(':') + 1), 16);
      const tx = parseInt(queues?.split(':')[0] ?? '', 16);
      if (Number.isNaN(remotePort) || Number.isNaN(tx)) continue;
      if (found.has(remotePort)) twice.add(remotePort);
      found.set(remotePort, tx);
    }
  }
  for (const port of twice) found.delete(port);
  return found;
}

interface Watched {
  acked: number;
  stalledSince: number | undefined;
}

/**
 * Drops readers that stopped reading before their socket buffer fills up (which on loopback takes
 * about 4 MB): a stream whose kernel send queue holds unacknowledged bytes and whose acknowledged
 * count has not moved for `timeoutMs` is dropped. Acknowledged = bytes written to the socket minus
 * bytes still unacknowledged, counted only while this process buffers nothing for the stream (else
 * the stream's own drain timeout applies, as it does where the kernel's tables cannot be read).
 */
export function watchStreams(
  localPort: number,
  streams: ReadonlySet<EventStream>,
  timeoutMs: number,
  intervalMs = Math.max(50, Math.min(1000, Math.floor(timeoutMs / 4))),
): () => void {
  const watched = new WeakMap<EventStream, Watched>();
  let running = false;
  let available = true;
  const check = async (): Promise<void> => {
    const before = new Map([...streams].map((stream) => [stream, stream.sent()]));
    const queues = await unackedBytes(localPort);
    if (queues === null) {
      available = false;
      return;
    }
    const now = Date.now();
    for (const [stream, was] of before) {
      const tx = stream.remotePort === undefined ? undefined : queues.get(stream.remotePort);
      const { written, unsent } = stream.sent();
      // Written while the table was read: the table may predate it, so this check proves nothing either way.
      if (written !== was.written) continue;
      if (tx === undefined || unsent > 0) {
        watched.delete(stream);
        continue;
      }
      const acked = written - tx;
      const seen = watched.get(stream);
      if (seen === undefined || tx === 0 || acked !== seen.acked) {
        watched.set(stream, { acked, stalledSince: tx === 0 ? undefined : now });
        continue;
      }
      seen.stalledSince ??= now;
      if (now - seen.stalledSince >= timeoutMs) stream.drop();
    }
  };
  const timer = setInterval(() => {
    if (running || !available || streams.size === 0) return;
    running = true;
    void check().finally(() => {
      running = false;
    });
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
