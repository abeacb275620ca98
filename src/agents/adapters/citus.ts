import pg from 'pg';
import { PgdeckError, type ErrorKind } from '../kernel/errors.js';
import { Batcher } from './citus-batch.js';

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

/** The host and port a node is registered under. */
interface NodeAddress {
  readonly host: string;
  readonly port: number;
}
const addressKey = (host: string, port: number): string => `${host}:${port}`;
/** The addresses of a batch as the two array parameters of `unnest($1::text[], $2::int[])`. */
const arrays = (items: readonly NodeAddress[]): [string[], number[]] => [
  items.map((a) => a.host),
  items.map((a) => a.port),
];
const UNNEST = 'unnest($1::text[], $2::int[]) AS q(h, p)';
/** The membership functions called per node without a result the agent reads (the extra arguments fixed). */
const MEMBERSHIP = {
  activate: { fn: 'citus_activate_node', extra: '' },
  disable: { fn: 'citus_disable_node', extra: ', synchronous => true' },
  remove: { fn: 'citus_remove_node', extra: '' },
} as const;

/** A failure after which the connection is dropped (and a batch is not retried call by call on it). */
const connectionLost = (kind: ErrorKind): boolean => kind === 'unavailable' || kind === 'timeout';

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
 * a coordinator restart or promotion is a failed call, then a working one.
 */
export class CitusCoordinator {
  private client: pg.Client | undefined;
  private opening: Promise<pg.Client> | undefined;
  private current: string | undefined;
  /** The end of the last call queued: one statement at a time on the one connection, in call order. */
  private tail: Promise<unknown> = Promise.resolve();
  private sent = 0;
  private readonly schedule = (run: () => Promise<void>): void => {
    const next = this.tail.then(run);
    this.tail = next.catch(() => undefined);
  };
  private readonly fatal = (error: unknown): boolean => error instanceof CitusError && connectionLost(error.kind);
  private readonly byAddress = new Batcher<NodeAddress, DistNode | undefined>(this.schedule, {
    one: async (a) =>
      (
        await this.send<DistNode>('read pg_dist_node', `${NODES_SQL} WHERE n.nodename = $1 AND n.nodeport = $2`, [
          a.host,
          a.port,
        ])
      ).rows[0],
    many: async (items) => {
      const sql = `${NODES_SQL} JOIN ${UNNEST} ON n.nodename = q.h AND n.nodeport = q.p`;
      const rows = (await this.send<DistNode>('read pg_dist_node', sql, arrays(items))).rows;
      const found = new Map(rows.map((r) => [addressKey(r.nodename, r.nodeport), r]));
      return items.map((a) => found.get(addressKey(a.host, a.port)));
    },
    fatal: this.fatal,
  });
  private readonly byId = new Batcher<number, DistNode | undefined>(this.schedule, {
    one: async (id) =>
      (await this.send<DistNode>('read pg_dist_node', `${NODES_SQL} WHERE n.nodeid = $1`, [id])).rows[0],
    many: async (ids) => {
      const sql = `${NODES_SQL} WHERE n.nodeid = ANY($1::int[])`;
      const found = new Map(
        (await this.send<DistNode>('read pg_dist_node', sql, [ids])).rows.map((r) => [r.nodeid, r]),
      );
      return ids.map((id) => found.get(id));
    },
    fatal: this.fatal,
  });
  private readonly adds = new Batcher<NodeAddress, number>(this.schedule, {
    one: async (a) =>
      (
        await this.send<{ id: number }>(
          `citus_add_node ${addressKey(a.host, a.port)}`,
          'SELECT citus_add_node($1, $2) AS id',
          [a.host, a.port],
        )
      ).rows[0]!.id,
    many: async (items) => {
      const sql = `SELECT q.h, q.p, citus_add_node(q.h, q.p) AS id FROM ${UNNEST}`;
      const rows = (
        await this.send<{ h: string; p: number; id: number }>(
          `citus_add_node of ${items.length} nodes`,
          sql,
          arrays(items),
        )
      ).rows;
      const ids = new Map(rows.map((r) => [addressKey(r.h, r.p), r.id]));
      return items.map((a) => ids.get(addressKey(a.host, a.port))!);
    },
    fatal: this.fatal,
  });
  private readonly membership = {
    activate: this.membershipBatcher('activate'),
    disable: this.membershipBatcher('disable'),
    remove: this.membershipBatcher('remove'),
  };

  constructor(private readonly target: CitusTarget) {}

  /** Statements sent to the coordinator so far (a batch is one). */
  get statements(): number {
    return this.sent;
  }

  /** `host:port` of the coordinator in use, if connected. */
  get connectedTo(): string | undefined {
    return this.current;
  }

  async nodes(): Promise<readonly DistNode[]> {
    return (await this.query<DistNode>('read pg_dist_node', `${NODES_SQL} ORDER BY n.nodeid`)).rows;
  }

  /** The row of one address; lookups made while other statements run are read in one statement. */
  node(host: string, port: number): Promise<DistNode | undefined> {
    return this.byAddress.call({ host, port });
  }

  nodeById(nodeid: number): Promise<DistNode | undefined> {
    return this.byId.call(nodeid);
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

  /** Adds (or finds) a node; adds asked for while other statements run go in one statement, one transaction. */
  addNode(host: string, port: number): Promise<number> {
    return this.adds.call({ host, port });
  }

  activateNode(host: string, port: number): Promise<void> {
    return this.membership.activate.call({ host, port });
  }

  /** Synchronous, so the first worker can be disabled too and no out-of-sync window follows. */
  disableNode(host: string, port: number): Promise<void> {
    return this.membership.disable.call({ host, port });
  }

  /** Moves every shard off the node, in its own statement (never batched: it runs for seconds). */
  async drainNode(host: string, port: number): Promise<void> {
    await this.query(`citus_drain_node ${host}:${port}`, 'SELECT citus_drain_node($1, $2)', [host, port]);
  }

  removeNode(host: string, port: number): Promise<void> {
    return this.membership.remove.call({ host, port });
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.current = undefined;
    await client?.end().catch(() => undefined);
  }

  private membershipBatcher(call: keyof typeof MEMBERSHIP): Batcher<NodeAddress, void> {
    const { fn, extra } = MEMBERSHIP[call];
    return new Batcher<NodeAddress, void>(this.schedule, {
      one: async (a) => {
        await this.send(`${fn} ${addressKey(a.host, a.port)}`, `SELECT ${fn}($1, $2${extra})`, [a.host, a.port]);
      },
      many: async (items) => {
        await this.send(
          `${fn} of ${items.length} nodes`,
          `SELECT ${fn}(q.h, q.p${extra}) FROM ${UNNEST}`,
          arrays(items),
        );
        return items.map(() => undefined);
      },
      fatal: this.fatal,
    });
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
    return new Promise<pg.QueryResult<R>>((resolve, reject) =>
      this.schedule(() => this.send<R>(what, sql, params).then(resolve, reject)),
    );
  }

  private async send<R extends pg.QueryResultRow>(
    what: string,
    sql: string,
    params: readonly unknown[],
  ): Promise<pg.QueryResult<R>> {
    const client = await this.connect();
    this.sent += 1;
    try {
      return await client.query<R>({ text: sql, values: [...params] });
    } catch (error) {
      const failure = citusError(error, what);
      if (connectionLost(failure.kind)) this.drop(client);
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
