import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { killTree, startDaemon, waitUntil, type Daemon, type RunAs } from './daemon.js';
import { pgBinDir, pgRunAs, runPgTool } from '../../agents/failover/pg-tools.js';
import { freePort, portTaken } from './ports.js';
import { createServiceDir, isAlive, subdir, type ServiceDir } from './service-dir.js';

export interface PgServer {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly dataDir: string;
  readonly logFile: string;
  /** The postmaster's PID. */
  readonly pid: number;
  url(database?: string): string;
  /** Signals the postmaster and every backend (each leads its own session, so not by group); `SIGKILL` = a crash. */
  kill(sig?: NodeJS.Signals): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Stops it and removes its files. */
  destroy(): Promise<void>;
}

export interface PgOptions {
  readonly name?: string;
  /** Extra postgresql.conf settings. */
  readonly settings?: Readonly<Record<string, string>>;
  readonly startTimeoutMs?: number;
}

const baseSettings: Readonly<Record<string, string>> = {
  listen_addresses: "'127.0.0.1'",
  wal_level: 'replica',
  max_wal_senders: '10',
  max_replication_slots: '10',
  hot_standby: 'on',
  wal_log_hints: 'on',
  wal_keep_size: "'128MB'",
  wal_retrieve_retry_interval: "'200ms'",
  shared_buffers: "'32MB'",
  max_connections: '60',
  fsync: 'off',
  logging_collector: 'off',
};

/** A fresh primary: initdb into a temp dir, trust auth on loopback, a free port. */
export async function startPostgres(options: PgOptions = {}): Promise<PgServer> {
  const runAs = await pgRunAs();
  const dir = createServiceDir('pg', runAs);
  const dataDir = subdir(dir, 'data', runAs);
  await runPgTool(
    'initdb',
    ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync', '--no-instructions'],
    runAs,
    dir.path,
  );
  return launch(dir, dataDir, runAs, options);
}

/** A streaming replica of `primary` cloned with pg_basebackup (-R writes its primary_conninfo). */
export async function startReplica(primary: PgServer, options: PgOptions = {}): Promise<PgServer> {
  const runAs = await pgRunAs();
  const dir = createServiceDir('pg', runAs);
  const dataDir = join(dir.path, 'data');
  const name = options.name ?? `replica-${primary.port}`;
  await runPgTool(
    'pg_basebackup',
    [
      '-h',
      primary.host,
      '-p',
      String(primary.port),
      '-U',
      primary.user,
      '-D',
      dataDir,
      '-R',
      '-X',
      'stream',
      '-c',
      'fast',
      '--no-sync',
    ],
    runAs,
    dir.path,
  );
  const settings = {
    primary_conninfo: `'host=${primary.host} port=${primary.port} user=${primary.user} application_name=${name}'`,
    ...options.settings,
  };
  return launch(dir, dataDir, runAs, { ...options, name, settings });
}

async function launch(
  dir: ServiceDir,
  dataDir: string,
  runAs: RunAs | undefined,
  options: PgOptions,
): Promise<PgServer> {
  let port = await freePort();
  const host = '127.0.0.1';
  const name = options.name ?? `pg-${port}`;
  const writePort = (): void => {
    const settings = {
      ...baseSettings,
      port: String(port),
      unix_socket_directories: `'${dir.path}'`,
      cluster_name: `'${name}'`,
      ...options.settings,
    };
    // A later line of postgresql.conf wins, so a retry on a new port appends again.
    appendFileSync(
      join(dataDir, 'postgresql.conf'),
      `\n# pgdeck lab\n${Object.entries(settings)
        .map(([k, v]) => `${k} = ${v}`)
        .join('\n')}\n`,
    );
  };
  const timeoutMs = options.startTimeoutMs ?? 30_000;
  let daemon: Daemon | undefined;
  const start = async (): Promise<void> => {
    if (daemon !== undefined && !isAlive(daemon.pid)) await daemon.exited;
    const started = startDaemon({
      name: 'postgres',
      command: join(pgBinDir(), 'postgres'),
      args: ['-D', dataDir],
      dir,
      ...(runAs === undefined ? {} : { runAs }),
    });
    daemon = started;
    await waitUntil(`PostgreSQL ${name} on ${host}:${port}`, () => isReady(host, port, runAs), timeoutMs, {
      logFile: started.logFile,
      processes: [{ name: 'postgres', daemon: started }],
    });
  };
  const stop = async (): Promise<void> => {
    await daemon?.stop(10_000);
  };
  // The picked port can be taken by a parallel test before the postmaster binds it: then a new one (three tries).
  for (let attempt = 1; ; attempt++) {
    if (attempt > 1) port = await freePort();
    writePort();
    try {
      await start();
      break;
    } catch (error) {
      if (portTaken(error) && attempt < 3) continue;
      await stop().catch(() => undefined);
      dir.remove();
      throw error;
    }
  }
  return {
    name,
    host,
    port,
    user: 'postgres',
    dataDir,
    logFile: join(dir.path, 'postgres.log'),
    get pid() {
      return daemon?.pid ?? 0;
    },
    url: (database = 'postgres') => `postgresql://postgres@${host}:${port}/${database}`,
    kill: (sig = 'SIGKILL') => {
      const pid = daemon?.pid;
      if (pid !== undefined && isAlive(pid)) killTree(pid, sig);
    },
    start,
    stop,
    destroy: async () => {
      await stop();
      dir.remove();
    },
  };
}

async function isReady(host: string, port: number, runAs: RunAs | undefined): Promise<boolean> {
  await runPgTool('pg_isready', ['-q', '-h', host, '-p', String(port), '-t', '1'], runAs);
  return true;
}
