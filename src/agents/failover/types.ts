/**
 * The failover agent's published state: what `/state`, `pgdeck status` and the TUI read.
 * LSNs are byte positions (numbers); `rows/` formats them as `0/3000060`.
 */

export type MemberRole = 'primary' | 'replica' | 'uninitialized' | 'unknown';

export type MemberState =
  | 'running'
  | 'streaming'
  | 'starting'
  | 'stopped'
  | 'crashed'
  | 'fenced'
  | 'rewinding'
  | 'cloning'
  | 'unreachable';

export interface MemberStatus {
  readonly name: string;
  readonly role: MemberRole;
  readonly state: MemberState;
  readonly timeline: number | null;
  /** pg_current_wal_lsn on a primary, pg_last_wal_receive_lsn on a replica. */
  readonly receivedLsn: number | null;
  readonly replayedLsn: number | null;
  readonly writtenLsn: number | null;
  /** Bytes behind the primary's current LSN; null when unknown. */
  readonly lagBytes: number | null;
  readonly lagSeconds: number | null;
  /** Listed in synchronous_standby_names and acknowledged as sync by the primary. */
  readonly sync: boolean;
  readonly healthy: boolean;
  readonly apiUrl: string;
  readonly pgUrl: string;
  /** When its report was last refreshed in etcd (ms since epoch). */
  readonly lastSeenAt: number | null;
  readonly noFailover: boolean;
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
  readonly id: string;
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
  readonly paused: boolean;
  readonly failoverTimeoutMs: number;
}

export interface LeaderInfo {
  readonly name: string;
  /** ms since epoch when the leader's lease runs out unless renewed. */
  readonly leaseExpiresAt: number | null;
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
}
