/**
 * The failover agent's published state: what `/state`, `pgdeck status` and the TUI read.
 * LSNs are byte positions (numbers); `rows/` formats them as `0/3000060`.
 */

export type MemberRole = 'primary' | 'replica' | 'uninitialized' | 'unknown';

export type MemberState =
  'running' | 'streaming' | 'starting' | 'stopped' | 'crashed' | 'fenced' | 'rewinding' | 'cloning' | 'unreachable';

/** What a member's own report and its published status both say of it: its role and WAL positions. */
export interface MemberPosition {
  readonly name: string;
  readonly role: MemberRole;
  readonly state: MemberState;
  readonly timeline: number | null;
  /** pg_current_wal_lsn on a primary, pg_last_wal_receive_lsn on a replica. */
  readonly receivedLsn: number | null;
  readonly replayedLsn: number | null;
  readonly writtenLsn: number | null;
  readonly noFailover: boolean;
  /** Listed in synchronous_standby_names and acknowledged as sync by the primary. */
  readonly sync: boolean;
  readonly apiUrl: string;
}

export interface MemberStatus extends MemberPosition {
  /** Bytes behind the primary's current LSN; null when unknown. */
  readonly lagBytes: number | null;
  readonly lagSeconds: number | null;
  readonly healthy: boolean;
  readonly pgUrl: string;
  /** When its report was last refreshed in etcd (ms since epoch). */
  readonly lastSeenAt: number | null;
  /** pg_stat_replication.sync_state of this standby on the primary: sync, potential, async, quorum. */
  readonly syncState?: string | null;
  /** The replication slots on this member's server. */
  readonly slots?: readonly ReplicationSlot[];
}

/** One row of pg_replication_slots. */
export interface ReplicationSlot {
  readonly name: string;
  readonly type: string;
  readonly active: boolean;
  readonly restartLsn: number | null;
}

export type HistoryKind = 'failover' | 'switchover' | 'manual-failover';

export interface CandidateRecord {
  readonly name: string;
  readonly lsn: number | null;
  readonly lagBytes: number | null;
  readonly eligible: boolean;
  /** Why it was (not) chosen: "highest LSN", "lag 4.2 MiB over budget 1 MiB", "unreachable". */
  readonly reason: string;
}

/** One flight-recorder entry: everything needed to explain a failover or switchover afterwards. */
export interface HistoryEntry {
  /** Its key under `history/`: `g<generation>`. */
  readonly id: string;
  /** The generation of the primary record that this failover or switchover creates. */
  readonly generation: number;
  readonly kind: HistoryKind;
  readonly startedAt: number;
  readonly detectedAt: number;
  /** What told us: "member lease of pg0 expired", "pg0 reports postgres down", "switchover requested by alice". */
  readonly signal: string;
  readonly oldPrimary: string | null;
  readonly newPrimary: string | null;
  readonly candidates: readonly CandidateRecord[];
  readonly reason: string;
  readonly catchUpWaitMs: number;
  readonly promotedAt: number | null;
  readonly firstWriteAt: number | null;
  /** Detection to first acknowledged write on the new primary. */
  readonly timeToFirstWriteMs: number | null;
  /** Bytes the old primary had that the winner did not receive (async); 0 in synchronous mode; null if unknown. */
  readonly bytesLost: number | null;
  readonly timeline: number | null;
  readonly outcome: 'completed' | 'aborted' | 'failed' | 'in-progress';
  readonly message: string;
}

export interface DynamicConfig {
  readonly ttlSeconds: number;
  readonly loopIntervalMs: number;
  readonly lagBudgetBytes: number;
  readonly synchronousMode: boolean;
  /**
   * With synchronousMode: with no synchronous standby left, synchronous_standby_names stays set and
   * commits wait, rather than being acknowledged by the primary alone (Patroni's synchronous_mode_strict).
   * Absent in a config written before it existed: off.
   */
  readonly synchronousStrict?: boolean;
  readonly paused: boolean;
  readonly failoverTimeoutMs: number;
}

export interface LeaderInfo {
  readonly name: string;
  /** ms since epoch when the leader's lease runs out unless renewed. */
  readonly leaseExpiresAt: number | null;
}

/** How many servers hold a write when the primary acknowledges it, from the primary's own report. */
export interface WriteCopies {
  readonly mode: 'async' | 'synchronous' | 'strict';
  /** Standbys that acknowledge each commit before it returns (sync or quorum in pg_stat_replication). */
  readonly synchronous: number;
  /** Standbys streaming from the primary (the asynchronous ones receive a write after it returns). */
  readonly streaming: number;
  /** One sentence when a write has a single copy, or waits for a standby (strict); null otherwise. */
  readonly warning: string | null;
}

export interface FailoverState {
  readonly cluster: string;
  readonly self: string;
  readonly leader: LeaderInfo | null;
  readonly primary: string | null;
  readonly config: DynamicConfig;
  readonly members: readonly MemberStatus[];
  readonly history: readonly HistoryEntry[];
  readonly etcdReachable: boolean;
  /** The most recent problem in one sentence, for the Overview; null when all is well. */
  readonly lastProblem: string | null;
  /** Where the primary's writes live; absent when no report of the primary is at hand. */
  readonly writes?: WriteCopies;
}

/* ---- The daemon's own model: config, what a daemon publishes in etcd, what one pass observes. ---- */

export interface FailoverConfig {
  readonly node: string;
  readonly cluster: string;
  readonly etcd: readonly string[];
  readonly dataDir: string;
  readonly pgHost: string;
  readonly pgPort: number;
  readonly pgUser: string;
  /** How peers reach this daemon's HTTP API (for probes); empty when not served. */
  readonly apiUrl: string;
  readonly noFailover: boolean;
  /** Extra postgresql.conf parameters, `name=value`. */
  readonly pgParameters: Readonly<Record<string, string>>;
  /**
   * initdb's `--wal-segsize` (MB) when this daemon bootstraps the cluster; PostgreSQL's 16 MB when
   * unset. A promotion copies and fsyncs its whole current segment onto the new timeline.
   */
  readonly walSegmentSizeMb?: number;
  /** Written to etcd by the daemon that bootstraps the cluster; etcd's copy wins afterwards. */
  readonly initial: DynamicConfig;
  /** Per-query and connect timeout towards servers and peers. */
  readonly probeTimeoutMs: number;
  /** What SIGTERM does to the server: `stop` (fast shutdown, unless the cluster is paused) or `leave` it running. */
  readonly onStop: OnStop;
}

export type OnStop = 'stop' | 'leave';

export interface Endpoint {
  readonly name: string;
  readonly host: string;
  readonly port: number;
}

/** A daemon's report under its lease at `members/<name>`: it disappears when the daemon stops renewing. */
export interface MemberReport extends MemberPosition {
  readonly host: string;
  readonly port: number;
  readonly following: string | null;
  /** The generation of the primary record this report was made under. */
  readonly generation: number;
  /** Set when this node's postgres died while it was the primary of that generation. */
  readonly crashedGeneration: number | null;
  /** After a switchover demotion: the shutdown checkpoint the candidate must receive. */
  readonly demoted: { readonly generation: number; readonly lsn: number; readonly timeline: number } | null;
  /** After a promotion: when it was promoted and first acknowledged a write. */
  readonly promoted: {
    readonly generation: number;
    readonly promotedAt: number;
    readonly firstWriteAt: number | null;
    readonly catchUpWaitMs: number;
  } | null;
  readonly replication: readonly {
    readonly name: string;
    readonly state: string;
    readonly syncState: string;
    readonly flushLsn: number | null;
    /** pg_stat_replication.replay_lag in seconds (null when idle or unknown). */
    readonly replayLagSeconds?: number | null;
  }[];
  /** A standby's replay lag in seconds: now() - pg_last_xact_replay_timestamp() while behind, else 0. */
  readonly replayLagSeconds?: number | null;
  readonly slots?: readonly ReplicationSlot[];
  readonly reportedAt: number;
}

/** `primary`: who should be the writable primary; written only by the leader (lease-bound CAS). */
export interface PrimaryRecord {
  readonly name: string;
  readonly generation: number;
  readonly since: number;
  /** A switchover in progress: the primary shuts down cleanly, then `to` is promoted. */
  readonly demoting: { readonly to: string; readonly requestId: string; readonly startedAt: number } | null;
}

/** How a standby is promoted. */
export interface PromoteOptions {
  /** How long to let it replay what it received before promoting anyway. */
  readonly catchUpTimeoutMs: number;
  /**
   * Strict synchronous mode: synchronous_standby_names in force before the promotion, so that no
   * commit returns from the new primary before a standby holds it (absent: left as it is).
   */
  readonly syncStandbys?: readonly string[];
}

/** `sync`: the standbys that may hold acknowledged commits (only these may be promoted in synchronous mode). */
export interface SyncRecord {
  readonly primary: string;
  readonly members: readonly string[];
}

export interface SwitchoverRequest {
  readonly id: string;
  readonly kind: 'switchover' | 'manual-failover';
  readonly from: string;
  readonly to: string | null;
  readonly by: string;
  readonly at: number;
}

export type LinkStatus = 'ok' | 'refused' | 'timeout' | 'error' | 'unknown';

/** What this daemon sees of one peer directly (postgres connection and daemon API), not via etcd. */
export interface PeerView {
  readonly name: string;
  readonly pg: LinkStatus;
  readonly api: LinkStatus;
  /** The peer daemon's own answer: can it reach etcd? (null when its API did not answer). */
  readonly apiEtcdReachable: boolean | null;
  /** Fresh positions asked directly during a failover decision (null when not asked or no answer). */
  readonly inRecovery: boolean | null;
  readonly receivedLsn: number | null;
  readonly replayedLsn: number | null;
}

export interface LocalView {
  readonly running: boolean;
  readonly dataDir: 'empty' | 'primary' | 'replica';
  readonly exitedAt: number | null;
  readonly following: string | null;
  readonly syncStandbyNames: readonly string[];
  /** Since when this running standby has not been streaming (null while it streams or is not a standby). */
  readonly notStreamingSince: number | null;
  readonly status: {
    readonly inRecovery: boolean;
    readonly timeline: number | null;
    readonly currentLsn: number | null;
    readonly receivedLsn: number | null;
    readonly replayedLsn: number | null;
    readonly readOnly: boolean;
    readonly streaming: boolean;
    readonly replication: MemberReport['replication'];
    readonly replayLagSeconds?: number | null;
    readonly slots?: readonly ReplicationSlot[];
  } | null;
}

/** What the daemon remembers between passes (set by `act`, read back by `observe`). */
export interface DaemonMemory {
  readonly crashedGeneration: number | null;
  readonly demoted: MemberReport['demoted'];
  readonly promoted: MemberReport['promoted'];
  readonly lastReport: MemberReport | null;
  readonly busy: string | null;
  /** The primary's WAL position just after synchronous_standby_names last changed. */
  readonly ssnLsn: number | null;
  /** Consecutive failed starts of the local server (a standby that cannot start is re-cloned). */
  readonly startFailures: number;
  /**
   * The generation in which the local server last served as primary. A report in between (say
   * 'starting', while a dying server no longer answers) does not erase it, so a crash is still a crash.
   */
  readonly servedGeneration: number | null;
  /** What this daemon last read from etcd that etcd cannot rebuild itself, kept to write back after a wipe. */
  readonly seed: EtcdSeed | null;
}

/** The cluster's memory in etcd, as last read from the etcd cluster `clusterId`. */
export interface EtcdSeed {
  readonly clusterId: string;
  readonly config: DynamicConfig | null;
  readonly history: readonly HistoryEntry[];
  readonly primary: PrimaryRecord | null;
  readonly sync: SyncRecord | null;
}

export interface ClusterView {
  readonly initializedBy: string | null;
  readonly primary: PrimaryRecord | null;
  /** The primary key's etcd mod revision: a switchover's last write names it, so only one of two racing writes lands. */
  readonly primaryRevision?: number;
  readonly config: DynamicConfig | null;
  readonly sync: SyncRecord | null;
  readonly optimeLsn: number | null;
  readonly switchover: SwitchoverRequest | null;
  readonly reinit: readonly string[];
  readonly members: readonly MemberReport[];
  readonly history: readonly HistoryEntry[];
  readonly leaderName: string | null;
  /** The leader's election key (below the cluster prefix) and its create revision, to depose it by CAS. */
  readonly leaderCampaign: { readonly key: string; readonly createRevision: number } | null;
  readonly campaigners: number;
  /** Where every member ever reported can be reached, kept after its report expires. */
  readonly endpoints: Readonly<Record<string, Endpoint>>;
}

export interface FailoverObserved {
  readonly now: number;
  readonly etcd: {
    readonly reachable: boolean;
    readonly renewedAt: number | null;
    readonly leaseLost: boolean;
    readonly leader: boolean;
    readonly campaigning: boolean;
    /** The id of the etcd cluster that answered (null before the first answer). */
    readonly clusterId: string | null;
  };
  /** null when etcd could not be read in this pass. */
  readonly cluster: ClusterView | null;
  readonly local: LocalView;
  readonly peers: readonly PeerView[];
  readonly memory: DaemonMemory;
}

export type FailoverAction =
  | { readonly kind: 'publish'; readonly report: MemberReport }
  | { readonly kind: 'initialize'; readonly config: DynamicConfig }
  /** After an etcd wipe: writes back what is absent; `primary` (with its `sync`) only by the primary it names. */
  | {
      readonly kind: 'reseed';
      readonly seed: EtcdSeed;
      readonly clusterId: string;
      readonly primary: { readonly record: PrimaryRecord; readonly sync: SyncRecord | null } | null;
    }
  | { readonly kind: 'clone'; readonly from: Endpoint }
  | { readonly kind: 'start'; readonly as: 'primary' | 'replica' }
  | ({ readonly kind: 'promote'; readonly generation: number } & PromoteOptions)
  | { readonly kind: 'first-write'; readonly generation: number }
  | { readonly kind: 'follow'; readonly to: Endpoint }
  | { readonly kind: 'fence'; readonly reason: string }
  | { readonly kind: 'unfence' }
  | { readonly kind: 'demote'; readonly generation: number }
  /**
   * Restart as a replica of `from`; `rewind` runs pg_rewind first (after a CHECKPOINT there), which a
   * server that shut down cleanly before the fork (a switchover's demotion) does not need.
   */
  | { readonly kind: 'rejoin'; readonly from: Endpoint; readonly rewind: boolean }
  | { readonly kind: 'reclone'; readonly from: Endpoint }
  | { readonly kind: 'set-sync-standbys'; readonly names: readonly string[] }
  | { readonly kind: 'write-sync'; readonly record: SyncRecord }
  | { readonly kind: 'write-optime'; readonly lsn: number }
  | { readonly kind: 'remember-crash'; readonly generation: number }
  | { readonly kind: 'campaign' }
  | { readonly kind: 'resign' }
  | {
      readonly kind: 'depose-leader';
      readonly name: string;
      readonly key: string;
      readonly createRevision: number;
      readonly reason: string;
    }
  | { readonly kind: 'remote-fence'; readonly member: Endpoint }
  | {
      readonly kind: 'set-primary';
      readonly record: PrimaryRecord;
      readonly history: HistoryEntry | null;
      readonly clearSwitchover: boolean;
      readonly resetSync: boolean;
      /**
       * The record names this daemon's own standby: promote it as soon as the record is written (a
       * leader that is the switchover's candidate saves a pass), never if the write was refused.
       */
      readonly promote?: PromoteOptions;
      /** Written only while the primary key is still at this mod revision (a switchover's decision on a demoting record). */
      readonly expectRevision?: number;
      /**
       * Written by the switchover's candidate, not the leader: the demoting record names it, so it takes
       * over as soon as it holds the shutdown checkpoint (the leader's own write of the same step then finds
       * the revision changed). Only with `expectRevision`.
       */
      readonly byCandidate?: true;
    }
  | { readonly kind: 'record-history'; readonly entry: HistoryEntry }
  | { readonly kind: 'clear-switchover'; readonly history: HistoryEntry | null }
  | { readonly kind: 'clear-reinit'; readonly name: string };
