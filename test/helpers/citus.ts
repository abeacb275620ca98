import { Client, type DatabaseError } from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { waitUntil } from '../../src/lab/procs/daemon.js';
import {
  citusInstallation,
  startCitus,
  type CitusCluster,
  type CitusMode,
  type CitusNode,
} from '../../src/lab/procs/citus.js';

export interface CitusCase {
  readonly mode: CitusMode;
  readonly label: string;
  /** Why this mode cannot run here; only real Citus can be missing (scripts/setup builds it). */
  readonly skip: string | undefined;
}

/** Real Citus and the SQL stand-in: run the same tests over both (`describe.each(citusCases())`). */
export function citusCases(): readonly CitusCase[] {
  const installation = citusInstallation();
  return [
    {
      mode: 'citus',
      label: 'real Citus',
      skip: installation.kind === 'missing' ? `skipped: ${installation.reason}` : undefined,
    },
    { mode: 'standin', label: 'the SQL stand-in', skip: undefined },
  ];
}

export interface CitusTestCluster {
  readonly cluster: CitusCluster;
  /** A superuser session on the coordinator, open for the whole file. */
  readonly coordinator: Client;
  /** A new superuser session on `node`; the harness closes it at the end of the file. */
  connect(node: CitusNode): Promise<Client>;
}

/**
 * A coordinator and `workers` workers (real servers on free loopback ports) for one test file:
 * started in beforeAll, stopped by PID in afterAll. Call the getter inside tests.
 */
export function withCitus(options: { mode: CitusMode; workers: number }): () => CitusTestCluster {
  let state: CitusTestCluster | undefined;
  const clients: Client[] = [];
  const connect = async (node: CitusNode): Promise<Client> => {
    const client = new Client({ host: node.host, port: node.port, user: 'postgres', database: 'postgres' });
    // A session on a node the test stops ends with an 'error' event, which is expected here.
    client.on('error', () => undefined);
    await client.connect();
    clients.push(client);
    return client;
  };
  let cluster: CitusCluster | undefined;
  beforeAll(async () => {
    cluster = await startCitus(options);
    state = { cluster, coordinator: await connect(cluster.coordinator), connect };
  });
  afterAll(async () => {
    await Promise.all(clients.splice(0).map((c) => c.end().catch(() => undefined)));
    await cluster?.stop();
  });
  return () => {
    if (state === undefined) throw new Error('Citus cluster not started: use it inside a test');
    return state;
  };
}

export interface SqlFailure {
  readonly code: string | undefined;
  readonly message: string;
  readonly detail: string | undefined;
  readonly hint: string | undefined;
}

/** Runs `sql`, which must fail, and returns what the server said. */
export async function sqlFailure(client: Client, sql: string, params: readonly unknown[] = []): Promise<SqlFailure> {
  try {
    await client.query(sql, [...params]);
  } catch (error) {
    const e = error as DatabaseError;
    return { code: e.code, message: e.message, detail: e.detail, hint: e.hint };
  }
  throw new Error(`expected to fail: ${sql}`);
}

/** Waits until every active worker with metadata has it synced (Citus's maintenance daemon ran). */
export async function waitMetadataSynced(client: Client, timeoutMs = 20_000): Promise<void> {
  await waitUntil(
    'metadata synced to every active worker',
    async () =>
      (
        await client.query<{ n: string }>(
          `SELECT count(*) AS n FROM pg_dist_node
           WHERE isactive AND hasmetadata AND groupid <> 0 AND NOT coalesce(metadatasynced, false)`,
        )
      ).rows[0]?.n === '0',
    timeoutMs,
    { intervalMs: 50 },
  );
}

/**
 * Back to an empty pg_dist_node: waits for the metadata to sync, drops the given distributed
 * tables, removes every node (workers first, then the coordinator's row).
 */
export async function resetMembership(client: Client, tables: readonly string[] = []): Promise<void> {
  await waitMetadataSynced(client);
  for (const table of tables) await client.query(`DROP TABLE IF EXISTS ${client.escapeIdentifier(table)}`);
  const nodes = await client.query<{ nodename: string; nodeport: number }>(
    'SELECT nodename, nodeport FROM pg_dist_node ORDER BY groupid = 0, nodeid',
  );
  for (const n of nodes.rows) await client.query('SELECT citus_remove_node($1, $2)', [n.nodename, n.nodeport]);
}

/** The pg_dist_node columns the tests look at (noderole as text). */
export interface NodeRow {
  nodeid: number;
  groupid: number;
  nodename: string;
  nodeport: number;
  isactive: boolean;
  noderole: string;
  hasmetadata: boolean;
  metadatasynced: boolean | null;
  shouldhaveshards: boolean;
}

/** The node's row in pg_dist_node, matched on (nodename, nodeport) as Citus does. */
export async function nodeRow(client: Client, node: Pick<CitusNode, 'host' | 'port'>): Promise<NodeRow | undefined> {
  const res = await client.query<NodeRow>(
    `SELECT nodeid, groupid, nodename, nodeport, isactive, noderole::text AS noderole, hasmetadata, metadatasynced,
       shouldhaveshards FROM pg_dist_node WHERE nodename = $1 AND nodeport = $2`,
    [node.host, node.port],
  );
  return res.rows[0];
}

/** `citus_add_node` for the node; returns its nodeid. */
export async function addNode(client: Client, node: Pick<CitusNode, 'host' | 'port'>): Promise<number> {
  const res = await client.query<{ id: number }>('SELECT citus_add_node($1, $2) AS id', [node.host, node.port]);
  return res.rows[0]!.id;
}
