import pg from 'pg';
import { PgdeckError, type ErrorKind } from '../kernel/errors.js';

/** Where the coordinator is: one or more `host:port` candidates, the first read-write one is used. */
export interface CitusTarget {
  readonly hosts: readonly { readonly host: string; readonly port: number }[];
  readonly user: string;
  readonly password: string | undefined;
  readonly database: string;
  readonly connectTimeoutMs: number;
  /** Deadline of one statement (a drain moving shards takes seconds, an add to a silent node up to a minute). */
  readonly statementTimeoutMs: number;
}

/** One row of pg_dist_node (noderole as text) with the count of shard placements in its group. */
export interface DistNode {
  readonly nodeid: number;
  readonly groupid: number;
  readonly nodename: string;
  readonly nodeport: number;
  readonly isactive: boolean;
  readonly noderole: string;
  readonly shouldhaveshards: boolean;
  readonly metadatasynced: boolean | null;
  readonly shards: number;
}

/** An error Citus (or PostgreSQL) answered, with its SQLSTATE kept for the agent's error policy. */
export class CitusError extends PgdeckError {
  constructor(
    kind: ErrorKind,
    message: string,
    readonly sqlstate: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(kind, message, options);
    this.name = 'CitusError';
  }
}

const NODES_SQL = `SELECT n.nodeid, n.groupid, n.nodename, n.nodeport, n.isactive, n.noderole::text AS noderole,
  n.shouldhaveshards, n.metadatasynced,
  (SELECT count(*) FROM pg_dist_placement p WHERE p.groupid = n.groupid)::int AS shards
  FROM pg_dist_node n`;

function kindOf(code: string | undefined, message: string): ErrorKind {
  if (code === undefined) return /timeout|timed out/i.test(message) ? 'timeout' : 'unavailable';
  if (code === '57014') return 'timeout';
  if (code.startsWith('08') || code === '57P01' || code === '57P03' || code === '25006') return 'unavailable';
  if (code === '28P01' || code === '28000') return 'unauthorized';
  if (code === '42501') return 'forbidden';
  if (code === '3D000') return 'config';
  if (code === '55000' || code === '40P01') return 'precondition';
  if (code === 'P0002') return 'not-found';
  if (/does not exist/.test(message)) return 'not-found';
  if (/only shard placement/.test(message)) return 'conflict';
  return 'internal';
}

function citusError(error: unknown, what: string): CitusError {
  const e = error as { code?: string; message?: string; detail?: string };
  const message = e.message ?? String(error);
  const code = typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) ? e.code : undefined;
  const detail = e.detail === undefined ? '' : ` (${e.detail})`;
  return new CitusError(kindOf(code, message), `${what}: ${message}${detail}`, code, { cause: error });
}

/**
 * The citus-sync agent's connection to the Citus coordinator, as a superuser: the membership
 * functions and pg_dist_node, parameterized SQL only. A lost connection is reopened on the next call,
 * against the first candidate host that is not in recovery (`target_session_attrs=read-write`), so
 * a coordinator restart or failover is a failed call, then a working one.
 */
export class CitusCoordinator {
  private client: pg.Client | undefined;
  private opening: Promise<pg.Client> | undefined;
  private current: string | undefined;
  /** The end of the last call queued: one statement at a time on the one connection, in call order. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly target: CitusTarget) {}

  /** `host:port` of the coordinator in use, if connected. */
  get connectedTo(): string | undefined {
    return this.current;
  }

  async nodes(): Promise<readonly DistNode[]> {
    return (await this.query<DistNode>('read pg_dist_node', `${NODES_SQL} ORDER BY n.nodeid`)).rows;
  }

  async node(host: string, port: number): Promise<DistNode | undefined> {
    const sql = `${NODES_SQL} WHERE n.nodename = $1 AND n.nodeport = $2`;
    return (await this.query<DistNode>('read pg_dist_node', sql, [host, port])).rows[0];
  }

  async nodeById(nodeid: number): Promise<DistNode | undefined> {
    return (await this.query<DistNode>('read pg_dist_node', `${NODES_SQL} WHERE n.nodeid = $1`, [nodeid])).rows[0];
  }

  /** Renames a node in place (`citus_update_node`): nodeid and groupid, and so its shards, stay. */
  async updateNode(nodeid: number, host: string, port: number): Promise<void> {
    await this.query(`citus_update_node ${nodeid} -> ${host}:${port}`, 'SELECT citus_update_node($1, $2, $3)', [
      nodeid,
      host,
      port,
    ]);
  }

  async setCoordinatorHost(host: string, port: number): Promise<void> {
    await this.query('citus_set_coordinator_host', 'SELECT citus_set_coordinator_host($1, $2)', [host, port]);
  }

  async addNode(host: string, port: number): Promise<number> {
    const res = await this.query<{ id: number }>(
      `citus_add_node ${host}:${port}`,
      'SELECT citus_add_node($1, $2) AS id',
      [host, port],
    );
    return res.rows[0]!.id;
  }

  async activateNode(host: string, port: number): Promise<void> {
    await this.query(`citus_activate_node ${host}:${port}`, 'SELECT citus_activate_node($1, $2)', [host, port]);
  }

  /** Synchronous, so the first worker can be disabled too and no out-of-sync window follows. */
  async disableNode(host: string, port: number): Promise<void> {
    await this.query(`citus_disable_node ${host}:${port}`, 'SELECT citus_disable_node($1, $2, synchronous => true)', [
      host,
      port,
    ]);
  }

  async drainNode(host: string, port: number): Promise<void> {
    await this.query(`citus_drain_node ${host}:${port}`, 'SELECT citus_drain_node($1, $2)', [host, port]);
  }

  async removeNode(host: string, port: number): Promise<void> {
    await this.query(`citus_remove_node ${host}:${port}`, 'SELECT citus_remove_node($1, $2)', [host, port]);
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.current = undefined;
    await client?.end().catch(() => undefined);
  }

  /**
   * Queues the statement behind the ones already sent (the keyed reconciles and the pass share this
   * connection; pg deprecates a query issued while another runs, and Citus serializes membership anyway).
   */
  private query<R extends pg.QueryResultRow>(
    what: string,
    sql: string,
    params: readonly unknown[] = [],
  ): Promise<pg.QueryResult<R>> {
    const run = this.tail.then(() => this.send<R>(what, sql, params));
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async send<R extends pg.QueryResultRow>(
    what: string,
    sql: string,
    params: readonly unknown[],
  ): Promise<pg.QueryResult<R>> {
    const client = await this.connect();
    try {
      return await client.query<R>({ text: sql, values: [...params] });
    } catch (error) {
      const failure = citusError(error, what);
      if (failure.kind === 'unavailable' || failure.kind === 'timeout') this.drop(client);
      throw failure;
    }
  }

  private async connect(): Promise<pg.Client> {
    if (this.client !== undefined) return this.client;
    this.opening ??= this.open().finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  private async open(): Promise<pg.Client> {
    let last: CitusError | undefined;
    for (const { host, port } of this.target.hosts) {
      const client = new pg.Client({
        host,
        port,
        user: this.target.user,
        database: this.target.database,
        ...(this.target.password === undefined ? {} : { password: this.target.password }),
        connectionTimeoutMillis: this.target.connectTimeoutMs,
        statement_timeout: this.target.statementTimeoutMs,
        application_name: 'pgdeck',
      });
      client.on('error', () => this.drop(client));
      client.on('end', () => this.drop(client));
      try {
        await client.connect();
        const res = await client.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r');
        if (res.rows[0]?.r === true) {
          await client.end().catch(() => undefined);
          last = new CitusError(
            'unavailable',
            `coordinator ${host}:${port} is in recovery (not read-write)`,
            undefined,
          );
          continue;
        }
      } catch (error) {
        void client.end().catch(() => undefined);
        last = citusError(error, `connect to the coordinator at ${host}:${port}`);
        if (last.kind === 'unauthorized' || last.kind === 'config') throw last;
        continue;
      }
      this.client = client;
      this.current = `${host}:${port}`;
      return client;
    }
    throw last ?? new CitusError('config', 'no coordinator host is configured', undefined);
  }

  private drop(client: pg.Client): void {
    if (this.client !== client) return;
    this.client = undefined;
    this.current = undefined;
    void client.end().catch(() => undefined);
  }
}
