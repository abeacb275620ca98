import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PgdeckError } from '../../agents/kernel/errors.js';
import { pgBinDir, pgRunAs, runPgTool } from '../../agents/failover/pg-tools.js';
import { checkoutFile } from '../../checkout-file.js';
import { readEnvFile } from './kube-binaries.js';
import { startPostgres, type PgServer } from './postgres.js';
import { isAlive } from './service-dir.js';

/** Real Citus (the extension, built by scripts/citus/build) or the SQL stand-in (src/lab/citus-standin/). */
export type CitusMode = 'citus' | 'standin';

export type CitusInstallation =
  | { readonly kind: 'installed'; readonly version: string; readonly library: string }
  | { readonly kind: 'missing'; readonly reason: string };

export interface CitusNode {
  /** `coordinator`, `worker1`, `worker2`, ... (also the server's cluster_name). */
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** libpq key=value connection string, as the citus-sync agent is configured with. */
  readonly conninfo: string;
  readonly server: PgServer;
  /** A fast shutdown (see `fastShutdown`); `server.start()` starts it again. */
  stop(): Promise<void>;
}

export interface CitusCluster {
  readonly mode: CitusMode;
  readonly coordinator: CitusNode;
  readonly workers: readonly CitusNode[];
  /** Starts one more worker (`workerN+1`, set up as the others), not registered; `stop()` stops it too. */
  addWorker(): Promise<CitusNode>;
  /** Stops every server by its PID and removes its files. */
  stop(): Promise<void>;
}

export interface CitusOptions {
  readonly workers: number;
  readonly mode: CitusMode;
  /** Extra postgresql.conf settings for every node. */
  readonly settings?: Readonly<Record<string, string>>;
}

/**
 * As root the servers run as `postgres` but inherit HOME=/root, so libpq inside Citus (its default
 * node_conninfo is sslmode=require) fails on ~/.postgresql/postgresql.crt with EACCES. A client
 * certificate path under a non-directory reads as "no client certificate" (ENOTDIR), and TLS between
 * the nodes stays on as in Citus's default.
 */
const CITUS_SETTINGS: Readonly<Record<string, string>> = {
  shared_preload_libraries: "'citus'",
  'citus.node_conninfo': "'sslmode=require sslcert=/dev/null/no-client-certificate'",
};

/** The stand-in's files, loaded in this order, in one transaction per node. */
const STANDIN_FILES = ['catalog.sql', 'nodes.sql', 'shards.sql'] as const;

/**
 * A coordinator and `workers` workers, each a fresh PostgreSQL from the lab launcher on a free
 * loopback port. `citus` preloads the extension (wal_level=logical, for shard moves) and runs
 * `CREATE EXTENSION citus` on every node; `standin` loads the SQL stand-in on every node instead.
 * pg_dist_node starts empty: registering the nodes is the caller's (or the citus-sync agent's) job.
 */
export async function startCitus(options: CitusOptions): Promise<CitusCluster> {
  if (options.mode === 'citus') {
    const installation = citusInstallation();
    if (installation.kind === 'missing') throw new PgdeckError('unavailable', installation.reason);
  }
  const preload = options.mode === 'citus' ? CITUS_SETTINGS : {};
  const settings = { wal_level: 'logical', ...preload, ...options.settings };
  const names = ['coordinator', ...Array.from({ length: options.workers }, (_, i) => `worker${i + 1}`)];
  const started = await Promise.allSettled(names.map((name) => startPostgres({ name, settings })));
  const servers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const stop = async (): Promise<void> => {
    await Promise.all(servers.map((s) => fastShutdown(s).then(() => s.destroy())));
  };
  const failed = started.find((s) => s.status === 'rejected');
  if (failed !== undefined) {
    await stop();
    throw failed.reason;
  }
  const nodes = servers.map(nodeOf);
  try {
    const setup = options.mode === 'citus' ? 'CREATE EXTENSION citus' : standinSql();
    await Promise.all(nodes.map((n) => runSql(n, setup)));
  } catch (error) {
    await stop();
    throw error;
  }
  const [coordinator, ...workers] = nodes;
  const addWorker = async (): Promise<CitusNode> => {
    const server = await startPostgres({ name: `worker${workers.length + 1}`, settings });
    servers.push(server);
    const node = nodeOf(server);
    await runSql(node, options.mode === 'citus' ? 'CREATE EXTENSION citus' : standinSql());
    workers.push(node);
    return node;
  };
  return { mode: options.mode, coordinator: coordinator!, workers, addWorker, stop };
}

/** Whether real Citus of the pinned version is installed for the PostgreSQL the launcher runs. */
export function citusAvailable(): boolean {
  return citusInstallation().kind === 'installed';
}

let cached: CitusInstallation | undefined;

/**
 * Citus counts as installed when the server's pkglibdir has a citus.so of the version pinned in
 * scripts/citus/versions.env and its control file names the pinned extension version (what
 * scripts/citus/build checks before it skips the build).
 */
export function citusInstallation(): CitusInstallation {
  cached ??= probeInstallation();
  return cached;
}

function probeInstallation(): CitusInstallation {
  const versionsFile = checkoutFile(join('scripts', 'citus', 'versions.env'));
  if (versionsFile === undefined) return { kind: 'missing', reason: 'scripts/citus/versions.env not found' };
  const pinned = readEnvFile(versionsFile);
  const version = pinned.CITUS_VERSION ?? '';
  let libDir: string;
  let shareDir: string;
  try {
    const pgConfig = join(pgBinDir(), 'pg_config');
    libDir = execFileSync(pgConfig, ['--pkglibdir'], { encoding: 'utf8' }).trim();
    shareDir = execFileSync(pgConfig, ['--sharedir'], { encoding: 'utf8' }).trim();
  } catch (error) {
    return { kind: 'missing', reason: `pg_config failed: ${error instanceof Error ? error.message : String(error)}` };
  }
  const library = join(libDir, 'citus.so');
  const control = join(shareDir, 'extension', 'citus.control');
  const missing: CitusInstallation = {
    kind: 'missing',
    reason: `Citus ${version} is not installed in ${libDir}: run scripts/citus/build`,
  };
  if (!existsSync(library) || !existsSync(control)) return missing;
  const controlVersion = /^default_version = '([^']*)'/m.exec(readFileSync(control, 'utf8'))?.[1];
  const built = readFileSync(library).includes(`Citus ${version} on `);
  if (!built || controlVersion !== pinned.CITUS_EXTENSION_VERSION) return missing;
  return { kind: 'installed', version, library };
}

/** The stand-in's SQL: src/lab/citus-standin/*.sql of the checkout (found from src/ or dist/). */
function standinSql(): string {
  const dir = checkoutFile(join('src', 'lab', 'citus-standin'));
  if (dir === undefined) throw new PgdeckError('unavailable', 'src/lab/citus-standin/ not found beside this module');
  return STANDIN_FILES.map((f) => readFileSync(join(dir, f), 'utf8')).join('\n');
}

/** Runs SQL on a node with psql, as one transaction; a failure names the node and quotes psql. */
async function runSql(node: CitusNode, sql: string): Promise<string> {
  const args = ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-h', node.host, '-p', String(node.port)];
  return runPgTool('psql', [...args, '-U', 'postgres', '-d', 'postgres', '-c', sql], await pgRunAs()).catch(
    (error: unknown) => {
      throw new PgdeckError('unavailable', `${node.name}: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
      });
    },
  );
}

/**
 * Stops a node without waiting on its peers: every Citus node's maintenance daemon keeps sessions
 * open on the others, so the launcher's smart shutdown (SIGTERM) would wait for them until its
 * SIGKILL. SIGINT to the postmaster asks for a fast shutdown, which ends them; `stop()`, called in
 * the same tick while the postmaster still runs, then waits for it to exit.
 */
function fastShutdown(server: PgServer): Promise<void> {
  if (server.pid > 0 && isAlive(server.pid)) process.kill(server.pid, 'SIGINT');
  return server.stop();
}

function nodeOf(server: PgServer): CitusNode {
  return {
    name: server.name,
    host: server.host,
    port: server.port,
    conninfo: `host=${server.host} port=${server.port} user=${server.user} dbname=postgres`,
    server,
    stop: () => fastShutdown(server),
  };
}
