import { connect } from 'node:net';
import { startDaemon, waitUntil } from './daemon.js';
import { freePort } from './ports.js';
import { createServiceDir } from './service-dir.js';

export interface RedisServer {
  readonly host: string;
  readonly port: number;
  readonly url: string;
  readonly pid: number;
  kill(sig?: NodeJS.Signals): void;
  stop(): Promise<void>;
}

/** A redis-server on a free loopback port with persistence off, in its own temp dir. */
export async function startRedis(options: { binary?: string; startTimeoutMs?: number } = {}): Promise<RedisServer> {
  const dir = createServiceDir('redis');
  const port = await freePort();
  const host = '127.0.0.1';
  const binary = options.binary ?? process.env.PGDECK_REDIS_BIN ?? 'redis-server';
  const daemon = startDaemon({
    name: 'redis',
    command: binary,
    args: [
      '--port',
      String(port),
      '--bind',
      host,
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir.path,
      '--protected-mode',
      'yes',
    ],
    dir,
  });
  const stop = async (): Promise<void> => {
    await daemon.stop();
    dir.remove();
  };
  try {
    await waitUntil(`redis on ${host}:${port}`, () => redisPing(host, port), options.startTimeoutMs ?? 15_000, {
      logFile: daemon.logFile,
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    host,
    port,
    url: `redis://${host}:${port}`,
    pid: daemon.pid,
    kill: (sig = 'SIGKILL') => daemon.signal(sig),
    stop,
  };
}

/** Speaks just enough RESP to ask PING, so the launcher needs no client library. */
export function redisPing(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const finish = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => finish(data.toString().startsWith('+PONG')));
  });
}
