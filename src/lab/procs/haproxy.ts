import { writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { haproxyConfig, type HaproxyLayout } from '../../agents/failover/haproxy-config.js';
import { startDaemon, waitUntil, type Daemon } from './daemon.js';
import { freePort } from './ports.js';
import { createServiceDir } from './service-dir.js';

/** A PostgreSQL server behind the proxy, health-checked over its daemon's HTTP API. */
export interface ProxyBackend {
  readonly name: string;
  /** Where PostgreSQL and its daemon's API listen (default 127.0.0.1; a namespace's address with `--netns`). */
  readonly host?: string;
  readonly port: number;
  readonly checkPort: number;
}

export interface HaproxyServer {
  /** Routes to the member whose `/primary` answers 200. */
  readonly writePort: number;
  /** Round-robin over the members whose `/replica` answers 200. */
  readonly readPort: number;
  readonly pid: number;
  readonly logFile: string;
  stop(): Promise<void>;
}

export interface HaproxyOptions {
  /** The haproxy binary (default `haproxy` on PATH). */
  readonly binary?: string;
  /** Milliseconds between health checks (default: haproxyConfig's). */
  readonly checkIntervalMs?: number;
  /** Renders the configuration from the layout (default haproxyConfig); it must bind the write port. */
  readonly render?: (layout: HaproxyLayout) => string;
}

/** haproxy in the foreground (`-db`) with a write and a read port over the given backends. */
export async function startHaproxy(
  backends: readonly ProxyBackend[],
  options: HaproxyOptions = {},
): Promise<HaproxyServer> {
  const dir = createServiceDir('haproxy');
  const [writePort, readPort] = [await freePort(), await freePort()];
  const config = join(dir.path, 'haproxy.cfg');
  const render = options.render ?? haproxyConfig;
  writeFileSync(config, render({ backends, writePort, readPort, checkIntervalMs: options.checkIntervalMs }));
  let daemon: Daemon | undefined;
  try {
    daemon = startDaemon({ name: 'haproxy', command: options.binary ?? 'haproxy', args: ['-db', '-f', config], dir });
    const started = daemon;
    await waitUntil(`haproxy on 127.0.0.1:${writePort}`, () => listening(writePort), 10_000, {
      logFile: started.logFile,
      processes: [{ name: 'haproxy', daemon: started }],
    });
  } catch (error) {
    await daemon?.stop();
    dir.remove();
    throw error;
  }
  const running = daemon;
  return {
    writePort,
    readPort,
    pid: running.pid,
    logFile: running.logFile,
    stop: async () => {
      await running.stop();
      dir.remove();
    },
  };
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
