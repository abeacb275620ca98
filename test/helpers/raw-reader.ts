import { readFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface RawReader {
  readonly socket: Socket;
  readonly connectedAt: number;
  /** `localPort>remotePort`, as `establishedConnections()` lists it. */
  readonly key: string;
  /** Whether the connection is still established, from the kernel's table (a paused socket sees no close). */
  established(): Promise<boolean>;
  /** Resolves with ms since connect once the server has dropped the connection. */
  dropped(timeoutMs: number): Promise<number>;
  close(): void;
}

/** Every ESTABLISHED TCP connection as `localPort>remotePort` (Linux /proc/net/tcp{,6}). */
export async function establishedConnections(): Promise<Set<string>> {
  const found = new Set<string>();
  for (const path of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const table = await readFile(path, 'utf8').catch(() => '');
    for (const line of table.split('\n')) {
      const [, local, remote, state] = line.trim().split(/\s+/);
      if (state !== '01' || local === undefined || remote === undefined) continue;
      found.add(
        `${parseInt(local.slice(local.lastIndexOf(':') + 1), 16)}>${parseInt(remote.slice(remote.lastIndexOf(':') + 1), 16)}`,
      );
    }
  }
  return found;
}

/**
 * A reader that asks for `/events` on a raw socket and never reads a byte of the answer: what a
 * stuck or malicious client looks like to the server.
 */
export async function rawNonReader(
  url: string,
  token: string,
  extraHeaders: Record<string, string> = {},
): Promise<RawReader> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  socket.pause();
  socket.on('error', () => undefined);
  const connectedAt = Date.now();
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const extra = Object.entries(extraHeaders).map(([k, v]) => `${k}: ${v}\r\n`);
  socket.write(`GET /events HTTP/1.1\r\nhost: ${hostname}\r\nauthorization: Bearer ${token}\r\n${extra.join('')}\r\n`);
  const local = socket.localPort ?? 0;
  const key = `${local}>${Number(port)}`;
  const established = async (): Promise<boolean> => (await establishedConnections()).has(key);
  return {
    socket,
    connectedAt,
    key,
    established,
    dropped: async (timeoutMs) => {
      let open = true;
      const deadline = Date.now() + timeoutMs;
      while (open && Date.now() < deadline) {
        open = await established();
        if (open) await sleep(20);
      }
      if (open) throw new Error(`the server kept the connection for ${timeoutMs} ms`);
      return Date.now() - connectedAt;
    },
    close: () => socket.destroy(),
  };
}
