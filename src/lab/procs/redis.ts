import { connect } from 'node:net';
import { startDaemon, waitUntil, type Daemon } from './daemon.js';
import { freePort, retryOnPortTaken } from './ports.js';
import { createServiceDir } from './service-dir.js';

export interface RedisServer {
  readonly host: string;
  readonly port: number;
  readonly url: string;
  readonly pid: number;
  readonly dataDir: string;
  kill(sig?: NodeJS.Signals): void;
  /**
   * Stops it (SIGTERM: with persistence on, Redis writes its data first) and starts it again on the
   * same port and dir; `whileDown` runs in between (a test waits there for what an outage must cause).
   */
  restart(whileDown?: () => Promise<void>): Promise<void>;
  stop(): Promise<void>;
}

export interface RedisOptions {
  readonly binary?: string;
  readonly startTimeoutMs?: number;
  /** Append-only file, fsynced on every write, so the data survives a restart (default off). */
  readonly persistent?: boolean;
  /** Sets `requirepass` for the default user. */
  readonly password?: string;
}

/**
 * A redis-server on a free loopback port, persistence off unless asked for, in its own temp dir; on a
 * new port when a parallel test took the picked one before the bind.
 */
export function startRedis(options: RedisOptions = {}): Promise<RedisServer> {
  return retryOnPortTaken(() => startOnce(options));
}

async function startOnce(options: RedisOptions): Promise<RedisServer> {
  const dir = createServiceDir('redis');
  const port = await freePort();
  const host = '127.0.0.1';
  const binary = options.binary ?? process.env.PGDECK_REDIS_BIN ?? 'redis-server';
  const persistence = options.persistent === true ? ['yes', '--appendfsync', 'always'] : ['no'];
  const auth = options.password === undefined ? [] : ['--requirepass', options.password];
  const args = ['--port', String(port), '--bind', host, '--save', '', '--appendonly', ...persistence];
  args.push('--dir', dir.path, '--protected-mode', 'yes', ...auth);
  let daemon: Daemon | undefined;
  const launch = async (): Promise<void> => {
    const started = startDaemon({ name: 'redis', command: binary, args, dir });
    daemon = started;
    await waitUntil(`redis on ${host}:${port}`, () => redisPing(host, port), options.startTimeoutMs ?? 15_000, {
      logFile: started.logFile,
      processes: [{ name: 'redis', daemon: started }],
    });
  };
  const stop = async (): Promise<void> => {
    await daemon?.stop();
    dir.remove();
  };
  try {
    await launch();
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    host,
    port,
    url: `redis://${host}:${port}`,
    get pid() {
      return daemon?.pid ?? 0;
    },
    dataDir: dir.path,
    kill: (sig = 'SIGKILL') => daemon?.signal(sig),
    restart: async (whileDown) => {
      await daemon?.stop();
      try {
        await whileDown?.();
      } finally {
        await launch();
      }
    },
    stop,
  };
}

/**
 * Speaks just enough RESP to ask PING, so the launcher needs no client library. A server that wants
 * a password answers NOAUTH, which still means it is up (and no longer loading its data).
 */
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
    socket.once('data', (data) => finish(/^(\+PONG|-NOAUTH)/.test(data.toString())));
  });
}
