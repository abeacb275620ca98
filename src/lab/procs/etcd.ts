import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { PgdeckError } from '../../agents/kernel/errors.js';
import { startDaemon, waitUntil, type Daemon } from './daemon.js';
import { freePort } from './ports.js';
import { createServiceDir, type ServiceDir } from './service-dir.js';

export interface EtcdServer {
  readonly endpoint: string;
  readonly clientPort: number;
  readonly peerPort: number;
  readonly dataDir: string;
  readonly pid: number;
  readonly logFile: string;
  /** Sends a signal to the running etcd (SIGKILL, SIGSTOP, SIGCONT). */
  kill(sig?: NodeJS.Signals): void;
  /** Starts it again on the same ports and data after a stop or kill. */
  restart(): Promise<void>;
  /** Stops it, deletes its data and starts a new etcd cluster (a new cluster id) on the same ports. */
  wipe(): Promise<void>;
  stop(): Promise<void>;
}

export interface EtcdOptions {
  /** The etcd binary; default `PGDECK_ETCD_BIN` or `etcd` on PATH. */
  readonly binary?: string;
  readonly startTimeoutMs?: number;
}

/**
 * A single-member etcd on free loopback ports, in its own temp dir. A free port can be taken by a
 * parallel test between the pick and the bind: then it starts again on new ports (three tries).
 */
export async function startEtcd(options: EtcdOptions = {}): Promise<EtcdServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (error) {
      const portTaken = error instanceof PgdeckError && error.message.includes('address already in use');
      if (!portTaken || attempt === 3) throw error;
    }
  }
}

async function startOnce(options: EtcdOptions): Promise<EtcdServer> {
  const dir = createServiceDir('etcd');
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const endpoint = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const dataDir = join(dir.path, 'data');
  const binary = options.binary ?? process.env.PGDECK_ETCD_BIN ?? 'etcd';
  const args = [
    '--name',
    'lab0',
    '--data-dir',
    dataDir,
    '--listen-client-urls',
    endpoint,
    '--advertise-client-urls',
    endpoint,
    '--listen-peer-urls',
    peer,
    '--initial-advertise-peer-urls',
    peer,
    '--initial-cluster',
    `lab0=${peer}`,
    '--initial-cluster-state',
    'new',
    '--heartbeat-interval',
    '50',
    '--election-timeout',
    '500',
    '--log-level',
    'warn',
  ];
  let token = 'pgdeck-lab';
  const timeoutMs = options.startTimeoutMs ?? 20_000;
  let daemon: Daemon | undefined;
  const stopDaemon = async (): Promise<void> => {
    await daemon?.stop();
  };
  const launch = async (): Promise<void> => {
    const started = startDaemon({
      name: 'etcd',
      command: binary,
      args: [...args, '--initial-cluster-token', token],
      dir,
    });
    daemon = started;
    await waitUntil(`etcd on ${endpoint}`, () => etcdHealthy(endpoint), timeoutMs, {
      logFile: started.logFile,
      processes: [{ name: 'etcd', daemon: started }],
    });
  };
  try {
    await launch();
  } catch (error) {
    await cleanup(dir, stopDaemon);
    throw error;
  }
  return {
    endpoint,
    clientPort,
    peerPort,
    dataDir,
    get pid() {
      return daemon?.pid ?? 0;
    },
    logFile: join(dir.path, 'etcd.log'),
    kill: (sig = 'SIGKILL') => daemon?.signal(sig),
    restart: async () => {
      await stopDaemon();
      await launch();
    },
    wipe: async () => {
      await stopDaemon();
      rmSync(dataDir, { recursive: true, force: true });
      token = `pgdeck-lab-${randomBytes(4).toString('hex')}`;
      await launch();
    },
    stop: () => cleanup(dir, stopDaemon),
  };
}

async function etcdHealthy(endpoint: string): Promise<boolean> {
  const response = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(1000) });
  const body = (await response.json()) as { health?: string };
  return response.ok && body.health === 'true';
}

async function cleanup(dir: ServiceDir, stop: () => Promise<void>): Promise<void> {
  await stop().catch(() => undefined);
  dir.remove();
}
