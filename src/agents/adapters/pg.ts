import pg from 'pg';

export interface PgTarget {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
}

/** One row of pg_stat_replication. */
export interface ReplicationRow {
  readonly name: string;
  readonly state: string;
  readonly syncState: string;
  readonly flushLsn: number | null;
  /** replay_lag in seconds; null when the standby is idle or it is unknown. */
  readonly replayLagSeconds: number | null;
}

/** One row of pg_replication_slots. */
export interface SlotRow {
  readonly name: string;
  readonly type: string;
  readonly active: boolean;
  readonly restartLsn: number | null;
}

/** What one status query tells about a server. LSNs are byte positions. */
export interface PgStatus {
  readonly inRecovery: boolean;
  readonly currentLsn: number | null;
  readonly receivedLsn: number | null;
  readonly replayedLsn: number | null;
  readonly timeline: number | null;
  readonly readOnly: boolean;
  readonly receiverStatus: string | null;
  /** `host:port` the WAL receiver streams from. */
  readonly sender: string | null;
  readonly syncStandbyNames: string;
  readonly replication: readonly ReplicationRow[];
  /** On a standby: seconds since the last replayed transaction while replay is behind receive, else 0. */
  readonly replayLagSeconds: number | null;
  readonly slots: readonly SlotRow[];
}

export type LinkState = 'ok' | 'refused' | 'timeout' | 'error';

/** pgdeck's own sessions say so, and a fence spares them. */
const PGDECK_APPLICATION_NAME = 'pgdeck';

const statusSql = `SELECT pg_is_in_recovery() AS in_recovery,
  CASE WHEN pg_is_in_recovery() THEN NULL ELSE (pg_current_wal_lsn() - '0/0'::pg_lsn)::text END AS current,
  (pg_last_wal_receive_lsn() - '0/0'::pg_lsn)::text AS received,
  (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::text AS replayed,
  current_setting('default_transaction_read_only') AS read_only,
  current_setting('synchronous_standby_names') AS ssn,
  (SELECT received_tli FROM pg_stat_wal_receiver) AS receiver_tli,
  (SELECT status FROM pg_stat_wal_receiver) AS receiver_status,
  (SELECT sender_host || ':' || sender_port FROM pg_stat_wal_receiver) AS sender,
  CASE WHEN pg_is_in_recovery() THEN NULL ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END AS primary_tli,
  (SELECT timeline_id FROM pg_control_checkpoint()) AS checkpoint_tli,
  (SELECT coalesce(json_agg(json_build_object('name', application_name, 'state', state, 'sync', sync_state, 'flush', (flush_lsn - '0/0'::pg_lsn)::text, 'replay_lag', extract(epoch FROM replay_lag)::float8)), '[]'::json) FROM pg_stat_replication) AS replication,
  CASE WHEN NOT pg_is_in_recovery() THEN NULL
    WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
    ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 END AS replay_lag,
  (SELECT coalesce(json_agg(json_build_object('name', slot_name, 'type', slot_type, 'active', active, 'restart', (restart_lsn - '0/0'::pg_lsn)::text)), '[]'::json) FROM pg_replication_slots) AS slots`;

interface StatusRow {
  in_recovery: boolean;
  current: string | null;
  received: string | null;
  replayed: string | null;
  read_only: string;
  ssn: string;
  receiver_tli: number | null;
  receiver_status: string | null;
  sender: string | null;
  primary_tli: number | null;
  checkpoint_tli: number | null;
  replication: { name: string; state: string; sync: string; flush: string | null; replay_lag: number | null }[];
  replay_lag: number | null;
  slots: { name: string; type: string; active: boolean; restart: string | null }[];
}

const lsn = (text: string | null): number | null => (text === null ? null : Number(text));

/**
 * What a standby holds: pg_last_wal_receive_lsn() restarts at the segment where a new WAL receiver
 * began, so it can be below what was already replayed; the higher of the two is the truth.
 */
const held = (received: number | null, replayed: number | null): number | null =>
  received === null ? replayed : replayed === null ? received : Math.max(received, replayed);

function toStatus(row: StatusRow): PgStatus {
  return {
    inRecovery: row.in_recovery,
    currentLsn: lsn(row.current),
    receivedLsn: held(lsn(row.received), lsn(row.replayed)),
    replayedLsn: lsn(row.replayed),
    timeline: row.primary_tli ?? row.receiver_tli ?? row.checkpoint_tli,
    readOnly: row.read_only === 'on',
    receiverStatus: row.receiver_status,
    sender: row.sender,
    syncStandbyNames: row.ssn,
    replication: row.replication.map((r) => ({
      name: r.name,
      state: r.state,
      syncState: r.sync,
      flushLsn: lsn(r.flush),
      replayLagSeconds: r.replay_lag,
    })),
    replayLagSeconds: row.replay_lag,
    slots: row.slots.map((r) => ({ name: r.name, type: r.type, active: r.active, restartLsn: lsn(r.restart) })),
  };
}

export function linkStateOf(error: unknown): LinkState {
  const code = (error as { code?: string } | null)?.code;
  if (code === 'ECONNREFUSED' || code === 'ENOENT' || code === '57P03') return 'refused';
  const message = error instanceof Error ? error.message : String(error);
  if (/timeout|timed out/i.test(message)) return 'timeout';
  if (/starting up|shutting down|ECONNRESET|terminat/i.test(message)) return 'refused';
  return 'error';
}

/**
 * A kept-open connection to one server with per-query timeouts. A dropped connection is noticed at
 * once (`onLost`), which is how a daemon sees a peer's postgres die without polling.
 */
export class PgLink {
  private client: pg.Client | undefined;
  private connecting: Promise<pg.Client> | undefined;
  private lastState: LinkState = 'error';

  constructor(
    private readonly target: PgTarget,
    private readonly timeoutMs: number,
    private readonly onLost: () => void = () => undefined,
  ) {}

  get state(): LinkState {
    return this.lastState;
  }

  async status(): Promise<PgStatus> {
    const res = await this.query<StatusRow>(statusSql);
    const row = res.rows[0];
    if (row === undefined) throw new Error('status query returned no row');
    return toStatus(row);
  }

  /** Receive/replay positions only: the cheap question asked of every candidate during a promotion. */
  async positions(): Promise<{ inRecovery: boolean; receivedLsn: number | null; replayedLsn: number | null }> {
    const res = await this.query<{ r: boolean; received: string | null; replayed: string | null }>(
      `SELECT pg_is_in_recovery() AS r, (pg_last_wal_receive_lsn() - '0/0'::pg_lsn)::text AS received, (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::text AS replayed`,
    );
    const row = res.rows[0]!;
    return {
      inRecovery: row.r,
      receivedLsn: held(lsn(row.received), lsn(row.replayed)),
      replayedLsn: lsn(row.replayed),
    };
  }

  /**
   * What a promotion waits for: receive and replay positions, and whether the startup process waits
   * for a stream that is not established (a walreceiver reconnecting after its stream ended). A
   * promotion noticed there sleeps out the rest of wal_retrieve_retry_interval before it ends recovery;
   * one noticed while the stream is up, or while that retry sleep runs, ends it at once.
   */
  async promotionPositions(): Promise<{
    receivedLsn: number | null;
    replayedLsn: number | null;
    streamPending: boolean;
  }> {
    const res = await this.query<{ received: string | null; replayed: string | null; pending: boolean }>(
      `SELECT (pg_last_wal_receive_lsn() - '0/0'::pg_lsn)::text AS received, (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::text AS replayed, EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_type = 'startup' AND wait_event = 'RecoveryWalStream') AND NOT EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming') AS pending`,
    );
    const row = res.rows[0]!;
    return {
      receivedLsn: held(lsn(row.received), lsn(row.replayed)),
      replayedLsn: lsn(row.replayed),
      streamPending: row.pending,
    };
  }

  /**
   * A standby's own view of its stream (pg_stat_wal_receiver): whether it streams, and how far its
   * replay is behind the sender's end of WAL as the sender last reported it (null when unknown).
   */
  async receiverLag(): Promise<{ streaming: boolean; lagBytes: number | null }> {
    const res = await this.query<{ status: string | null; sender_end: string | null; replayed: string | null }>(
      `SELECT (SELECT status FROM pg_stat_wal_receiver) AS status, (SELECT (latest_end_lsn - '0/0'::pg_lsn)::text FROM pg_stat_wal_receiver) AS sender_end, (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::text AS replayed`,
    );
    const row = res.rows[0];
    const end = lsn(row?.sender_end ?? null);
    const replayed = lsn(row?.replayed ?? null);
    return {
      streaming: row?.status === 'streaming',
      lagBytes: end === null || replayed === null ? null : Math.max(0, end - replayed),
    };
  }

  /** pg_current_wal_lsn on a primary (where writes end now); null on a server in recovery. */
  async currentWalLsn(): Promise<number | null> {
    const res = await this.query<{ lsn: string | null }>(
      `SELECT CASE WHEN pg_is_in_recovery() THEN NULL ELSE (pg_current_wal_lsn() - '0/0'::pg_lsn)::text END AS lsn`,
    );
    return lsn(res.rows[0]?.lsn ?? null);
  }

  async checkpoint(): Promise<void> {
    await this.query('CHECKPOINT');
  }

  /**
   * Whether pg_control's latest checkpoint is on the server's current timeline. A promoted server's
   * is not until its first checkpoint after the promotion, and pg_rewind reads the timeline there.
   */
  async checkpointOnCurrentTimeline(): Promise<boolean> {
    const res = await this.query<{ ok: boolean }>(
      `SELECT pg_is_in_recovery() OR (SELECT timeline_id FROM pg_control_checkpoint()) = ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int AS ok`,
    );
    return res.rows[0]?.ok === true;
  }

  /** Assigns a transaction id and commits: proof the server acknowledges writes. */
  async firstWrite(): Promise<void> {
    await this.query('SELECT txid_current()');
  }

  /**
   * Fences a primary without stopping it: new transactions default to read-only (which
   * `target_session_attrs=read-write` clients see) and every client session is terminated.
   */
  async fence(): Promise<void> {
    await this.query('ALTER SYSTEM SET default_transaction_read_only = on');
    await this.query('SELECT pg_reload_conf()');
    await this.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND backend_type = 'client backend' AND application_name <> $1`,
      [PGDECK_APPLICATION_NAME],
    );
  }

  async unfence(): Promise<void> {
    await this.query('ALTER SYSTEM RESET default_transaction_read_only');
    await this.query('SELECT pg_reload_conf()');
  }

  async query<R extends pg.QueryResultRow>(sql: string, params: readonly unknown[] = []): Promise<pg.QueryResult<R>> {
    const client = await this.connect();
    try {
      const res = await client.query<R>({ text: sql, values: [...params] });
      this.lastState = 'ok';
      return res;
    } catch (error) {
      this.lastState = linkStateOf(error);
      this.drop(client);
      throw error;
    }
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<pg.Client> {
    if (this.client !== undefined) return this.client;
    this.connecting ??= this.open().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async open(): Promise<pg.Client> {
    const client = new pg.Client({
      host: this.target.host,
      port: this.target.port,
      user: this.target.user,
      database: this.target.database,
      connectionTimeoutMillis: this.timeoutMs,
      query_timeout: this.timeoutMs,
      application_name: PGDECK_APPLICATION_NAME,
    });
    client.on('error', () => this.drop(client));
    client.on('end', () => this.drop(client));
    try {
      await client.connect();
    } catch (error) {
      this.lastState = linkStateOf(error);
      void client.end().catch(() => undefined);
      throw error;
    }
    this.client = client;
    this.lastState = 'ok';
    return client;
  }

  private drop(client: pg.Client): void {
    if (this.client !== client) return;
    this.client = undefined;
    this.lastState = 'refused';
    void client.end().catch(() => undefined);
    this.onLost();
  }
}
