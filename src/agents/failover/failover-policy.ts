import type {
  CandidateRecord,
  ClusterView,
  DynamicConfig,
  MemberReport,
  OnStop,
  PeerView,
  PrimaryRecord,
} from './types.js';

/** Why the leader thinks the primary is gone, and whether its postgres might still take writes. */
export interface Failure {
  readonly signal: string;
  readonly mayBeAlive: boolean;
}

export interface Choice {
  readonly winner: string | null;
  readonly candidates: readonly CandidateRecord[];
  readonly reason: string;
  /** Bytes the old primary wrote that the winner has not received (async); 0 with synchronous mode. */
  readonly bytesLost: number | null;
}

const msPerSecond = 1000;
/** The fence margin: a quarter of the lease TTL, and never under half a second. */
const fenceMarginShare = 1 / 4;
const minFenceMarginMs = 500;
const bytesPerMiB = 1024 * 1024;

/** A primary may stay writable this long after its last lease renewal: a margin before others can promote. */
export function fenceAfterMs(config: DynamicConfig): number {
  const ttlMs = config.ttlSeconds * msPerSecond;
  return ttlMs - Math.max(minFenceMarginMs, ttlMs * fenceMarginShare);
}

export function mib(bytes: number): string {
  return bytes >= bytesPerMiB ? `${(bytes / bytesPerMiB).toFixed(1)} MiB` : `${bytes} B`;
}

/**
 * Every signal about the primary, strongest first: its own report of a crash; its postgres and its
 * daemon both refusing connections (the processes are gone: a fast, safe verdict); its member lease
 * expired with its postgres not answering. A lease expired while its postgres still answers as a
 * primary is a dead daemon, not a dead primary: no failover.
 */
export function primaryFailure(
  name: string,
  generation: number,
  report: MemberReport | undefined,
  peer: PeerView | undefined,
): Failure | null {
  if (
    report !== undefined &&
    ((report.state === 'crashed' && report.generation === generation) || report.crashedGeneration === generation)
  ) {
    return { signal: `${name} reports its postgres crashed`, mayBeAlive: false };
  }
  if (peer !== undefined && peer.pg === 'refused' && peer.api === 'refused') {
    return { signal: `postgres and daemon of ${name} refuse connections`, mayBeAlive: false };
  }
  if (report === undefined) {
    if (peer !== undefined && peer.pg === 'ok' && peer.inRecovery === false) return null;
    return {
      signal: `member lease of ${name} expired (postgres: ${peer?.pg ?? 'unknown'})`,
      mayBeAlive: peer?.pg !== 'refused',
    };
  }
  if (report.role === 'uninitialized') return { signal: `${name} has no data directory`, mayBeAlive: false };
  return null;
}

/**
 * A demoting primary that failed before reporting its clean shutdown of `record`'s generation (the
 * switchover becomes a failover); null while it demotes as planned.
 */
export function demotionFailure(
  record: PrimaryRecord,
  report: MemberReport | undefined,
  peer: PeerView | undefined,
): Failure | null {
  if (report?.demoted?.generation === record.generation) return null;
  return primaryFailure(record.name, record.generation, report, peer);
}

interface ChooseInput {
  readonly cluster: ClusterView;
  readonly peers: readonly PeerView[];
  readonly oldPrimary: string;
  readonly config: DynamicConfig;
  /** A person asked for this member: lag budget and sync membership are waived (the preview shows the loss). */
  readonly requested: string | null;
  /** Switchover: candidates must be streaming (the exact LSN is awaited later). */
  readonly planned: boolean;
  /**
   * Switchover: the deciding leader. Among eligible candidates it wins whatever its LSN (the
   * promotion waits for the exact shutdown LSN anyway), since it promotes in the pass that writes
   * the record instead of one etcd round trip and a pass of another daemon later.
   */
  readonly leader?: string;
}

/** Picks the replica with the highest LSN within the lag budget (and, in synchronous mode, in the sync set). */
export function chooseCandidate(input: ChooseInput): Choice {
  const { cluster, config, oldPrimary } = input;
  const peerOf = new Map(input.peers.map((p) => [p.name, p]));
  const oldReport = cluster.members.find((m) => m.name === oldPrimary);
  const reports = cluster.members.filter((m) => m.name !== oldPrimary);
  const lsnOf = (m: MemberReport): number | null => peerOf.get(m.name)?.receivedLsn ?? m.receivedLsn;
  const known = [cluster.optimeLsn, oldReport?.writtenLsn ?? null, ...reports.map(lsnOf)].filter(
    (n): n is number => n !== null,
  );
  const top = known.length === 0 ? null : Math.max(...known);
  const syncSet = cluster.sync?.primary === oldPrimary ? cluster.sync.members : [];
  const records: CandidateRecord[] = [];
  for (const m of reports) {
    const peer = peerOf.get(m.name);
    const lsn = lsnOf(m);
    const lag = top === null || lsn === null ? null : Math.max(0, top - lsn);
    const manual = input.requested === m.name;
    const reject = (reason: string): void =>
      void records.push({ name: m.name, lsn, lagBytes: lag, eligible: false, reason });
    if (input.requested !== null && !manual) reject(`not the requested member (${input.requested})`);
    else if (m.noFailover) reject('tagged no-failover');
    else if (peer !== undefined && peer.pg !== 'ok' && peer.pg !== 'unknown') reject(`postgres ${peer.pg}`);
    else if (peer?.api === 'refused') reject('daemon gone (its API refuses connections): nobody would promote it');
    else if (m.role !== 'replica' || !['streaming', 'running'].includes(m.state)) reject(`${m.role} ${m.state}`);
    else if (input.planned && m.state !== 'streaming') reject('not streaming');
    else if (lsn === null) reject('LSN unknown');
    else if (!manual && config.synchronousMode && !syncSet.includes(m.name)) reject('not a synchronous standby');
    else if (!manual && !config.synchronousMode && lag !== null && lag > config.lagBudgetBytes)
      reject(`lag ${mib(lag)} over budget ${mib(config.lagBudgetBytes)}`);
    else records.push({ name: m.name, lsn, lagBytes: lag, eligible: true, reason: '' });
  }
  const refuse = (why: string): Choice => ({
    winner: null,
    candidates: records.map((r) => ({ ...r, eligible: false, reason: r.reason || why })),
    reason: why,
    bytesLost: null,
  });
  // A sync member whose daemon is gone (no report, or its API refuses) is still read directly: its postgres says what it holds.
  const probedOnly = new Map<string, number>();
  const reported = (n: string): boolean =>
    peerOf.get(n)?.api !== 'refused' &&
    reports.some((m) => m.name === n && peerOf.get(n)?.pg !== 'refused' && lsnOf(m) !== null);
  if (config.synchronousMode && input.requested === null) {
    for (const n of syncSet) {
      if (n === oldPrimary || reported(n)) continue;
      const peer = peerOf.get(n);
      if (peer?.pg === 'ok' && peer.inRecovery === true && peer.receivedLsn !== null)
        probedOnly.set(n, peer.receivedLsn);
    }
    const missing = syncSet.filter((n) => n !== oldPrimary && !probedOnly.has(n) && !reported(n));
    if (missing.length > 0)
      return refuse(`synchronous standby ${missing.join(', ')} unreachable: it may hold the latest commits`);
  }
  const eligible = records
    .filter((r) => r.eligible)
    .sort((a, b) => (b.lsn ?? 0) - (a.lsn ?? 0) || a.name.localeCompare(b.name));
  const leads = input.planned && input.requested === null && eligible.some((r) => r.name === input.leader);
  const winner = leads ? eligible.find((r) => r.name === input.leader) : eligible[0];
  if (winner === undefined) {
    return {
      winner: null,
      candidates: records,
      reason: records.length === 0 ? 'no replicas' : 'no eligible candidate',
      bytesLost: null,
    };
  }
  const ahead = [...probedOnly].filter(([, lsn]) => lsn > (winner.lsn ?? 0)).map(([n]) => n);
  if (ahead.length > 0)
    return refuse(
      `synchronous standby ${ahead.join(', ')} (its daemon is gone) holds WAL that ${winner.name} has not received`,
    );
  const runnerUp = eligible.find((r) => r.name !== winner.name);
  const reason =
    input.requested !== null
      ? `requested by a person`
      : leads
        ? 'the leader: it promotes in the pass that writes the record (the exact LSN is awaited)'
        : runnerUp === undefined
          ? 'only eligible candidate'
          : `highest LSN (${runnerUp.name} is ${mib((winner.lsn ?? 0) - (runnerUp.lsn ?? 0))} behind)`;
  const candidates = records.map((r) =>
    r.name === winner.name
      ? { ...r, reason }
      : r.eligible
        ? { ...r, reason: leads ? `not the leader (${winner.name} is)` : `lower LSN than ${winner.name}` }
        : r,
  );
  const lost =
    config.synchronousMode && syncSet.includes(winner.name)
      ? 0
      : top === null || winner.lsn === null
        ? null
        : Math.max(0, top - winner.lsn);
  return { winner: winner.name, candidates, reason, bytesLost: lost };
}

/**
 * What a stopping daemon does to its server (Patroni's rule): `stop` shuts it down fast, so a
 * primary's replicas fail over at once instead of leaving an unsupervised primary behind; a paused
 * cluster, whose servers a person runs by hand, keeps it running, and so does `leave`. When etcd
 * cannot say whether the cluster is paused (`null`), the configured choice holds.
 */
export function serverOnStop(onStop: OnStop, paused: boolean | null): OnStop {
  return onStop === 'stop' && paused !== true ? 'stop' : 'leave';
}
