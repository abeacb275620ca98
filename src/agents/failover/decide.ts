import type { Decision } from '../kernel/agent.js';
import { chooseCandidate, fenceAfterMs, mib, primaryFailure } from './failover-policy.js';
import type {
  ClusterView,
  DynamicConfig,
  Endpoint,
  FailoverAction,
  FailoverConfig,
  FailoverObserved,
  FailoverState,
  HistoryEntry,
  MemberReport,
  MemberState,
  MemberStatus,
  PrimaryRecord,
} from './types.js';

type Out = Decision<FailoverAction, FailoverState>;

/** A standby that has not streamed from the primary this long after being pointed at it is rewound. */
const notStreamingLimitMs = 5000;
type Event = NonNullable<Out['events']>[number];

interface Plan {
  readonly actions: FailoverAction[];
  readonly events: Event[];
  summary: string;
  problem: string | null;
}

/**
 * One pass of a node daemon, without I/O: publish its own report; make its own server converge on
 * the primary record (initialize, clone, start, promote, follow, fence, demote, rejoin); and, on the
 * leader, detect a failed primary, choose the candidate, and drive switchovers.
 */
export function decideFailover(o: FailoverObserved, now: number, config: FailoverConfig): Out {
  const dyn = o.cluster?.config ?? config.initial;
  const plan: Plan = { actions: [], events: [], summary: '', problem: null };
  const report = selfReport(o, config, now);
  if (o.cluster === null) {
    selfProtect(o, dyn, now, plan);
    plan.summary ||= 'etcd unreachable: holding position (nothing can be promoted without etcd)';
    plan.problem ??= 'etcd unreachable';
  } else {
    const cluster = o.cluster;
    const listed = cluster.members.some((m) => m.name === config.node);
    if (!listed || shouldPublish(o.memory.lastReport, report, now, dyn)) plan.actions.push({ kind: 'publish', report });
    converge(o, cluster, config, dyn, now, plan);
    lead(o, cluster, dyn, now, plan, config.node);
  }
  const publish = publishState(o, config, dyn, report, plan.problem);
  const base: Out = {
    actions: urgentFirst(plan.actions),
    summary: plan.summary || idleSummary(o, config),
    publish,
    requeueAfterMs: dyn.loopIntervalMs,
  };
  return plan.events.length > 0 ? { ...base, events: plan.events } : base;
}

/** Promotion and fencing change who can acknowledge writes: they run before the report goes out, not after an etcd round trip. */
function urgentFirst(actions: readonly FailoverAction[]): FailoverAction[] {
  const urgent = (a: FailoverAction): boolean => a.kind === 'promote' || a.kind === 'fence';
  return [...actions.filter(urgent), ...actions.filter((a) => !urgent(a))];
}

function idleSummary(o: FailoverObserved, config: FailoverConfig): string {
  const primary = o.cluster?.primary?.name ?? 'none';
  const role =
    o.local.status === null
      ? o.local.running
        ? 'starting'
        : 'stopped'
      : o.local.status.inRecovery
        ? 'replica'
        : 'primary';
  return `${config.node} is ${role}; primary ${primary}${o.etcd.leader ? '; this daemon leads' : ''}`;
}

/* ---------------- the node's own report ---------------- */

function selfState(o: FailoverObserved): MemberState {
  const busy = o.memory.busy;
  if (busy === 'cloning' || busy === 'rewinding') return busy;
  const s = o.local.status;
  if (o.local.running) {
    if (s === null) return 'starting';
    if (!s.inRecovery) return s.readOnly ? 'fenced' : 'running';
    return s.streaming ? 'streaming' : 'running';
  }
  return o.memory.crashedGeneration !== null && o.memory.crashedGeneration === o.cluster?.primary?.generation
    ? 'crashed'
    : 'stopped';
}

function selfReport(o: FailoverObserved, config: FailoverConfig, now: number): MemberReport {
  const s = o.local.status;
  const role =
    s !== null
      ? s.inRecovery
        ? 'replica'
        : 'primary'
      : o.local.dataDir === 'empty'
        ? 'uninitialized'
        : o.local.dataDir;
  const sync =
    o.cluster?.sync?.members.includes(config.node) === true && o.cluster.sync.primary === o.cluster.primary?.name;
  return {
    name: config.node,
    apiUrl: config.apiUrl,
    host: config.pgHost,
    port: config.pgPort,
    role,
    state: selfState(o),
    timeline: s?.timeline ?? null,
    receivedLsn: s === null ? null : s.inRecovery ? s.receivedLsn : s.currentLsn,
    replayedLsn: s?.replayedLsn ?? null,
    writtenLsn: s?.currentLsn ?? null,
    following: s?.inRecovery === true ? o.local.following : null,
    generation: o.cluster?.primary?.generation ?? 0,
    crashedGeneration: o.memory.crashedGeneration,
    demoted: o.memory.demoted,
    promoted: o.memory.promoted,
    noFailover: config.noFailover,
    sync,
    replication: s?.replication ?? [],
    replayLagSeconds: s?.replayLagSeconds ?? null,
    slots: s?.slots ?? [],
    reportedAt: now,
  };
}

function shouldPublish(last: MemberReport | null, next: MemberReport, now: number, dyn: DynamicConfig): boolean {
  if (last === null) return true;
  const shape = (r: MemberReport): string =>
    JSON.stringify({
      ...r,
      receivedLsn: 0,
      replayedLsn: 0,
      writtenLsn: 0,
      reportedAt: 0,
      replayLagSeconds: 0,
      slots: r.slots?.map((x) => [x.name, x.active]),
      replication: r.replication.map((x) => [x.name, x.state, x.syncState]),
    });
  if (shape(last) !== shape(next)) return true;
  return (
    now - last.reportedAt >= dyn.loopIntervalMs &&
    (last.receivedLsn !== next.receivedLsn ||
      last.replayedLsn !== next.replayedLsn ||
      now - last.reportedAt >= 5 * dyn.loopIntervalMs)
  );
}

/* ---------------- self protection without etcd ---------------- */

/**
 * A primary that cannot read etcd keeps serving until its lease could have run out, minus a margin.
 * After that it fences itself unless every peer daemon answers that it cannot reach etcd either: then
 * nobody can be promoted (promotion needs etcd), so an etcd outage causes no demotion storm. A client-side
 * "lease lost" during the outage is not proof: etcd extends leases when it comes back.
 */
function selfProtect(o: FailoverObserved, dyn: DynamicConfig, now: number, plan: Plan): void {
  const s = o.local.status;
  if (s === null || s.inRecovery || s.readOnly) return;
  const silentMs = o.etcd.renewedAt === null ? Infinity : now - o.etcd.renewedAt;
  if (silentMs <= fenceAfterMs(dyn)) {
    plan.summary = `etcd unreachable for ${Math.round(silentMs)} ms: primary keeps serving until ${fenceAfterMs(dyn)} ms`;
    return;
  }
  const peers = o.peers;
  if (peers.length > 0 && peers.every((p) => p.apiEtcdReachable === false)) {
    plan.summary = `etcd unreachable; all ${peers.length} peers confirm they cannot reach it either, so none can be promoted: primary keeps serving (failsafe)`;
    plan.problem = 'etcd unreachable (failsafe: primary kept)';
    return;
  }
  const reason = `no lease renewal for ${Math.round(silentMs)} ms and not every peer confirms etcd is down`;
  plan.actions.push({ kind: 'fence', reason });
  plan.summary = `fencing this primary: ${reason}`;
  plan.problem = `primary fenced: ${reason}`;
  plan.events.push({ severity: 'warn', kind: 'fenced', message: `fencing this primary: ${reason}` });
}

/* ---------------- converging the local server ---------------- */

function endpointOf(cluster: ClusterView, name: string): Endpoint | null {
  return cluster.endpoints[name] ?? null;
}

function primaryServing(cluster: ClusterView, record: PrimaryRecord): boolean {
  const m = cluster.members.find((r) => r.name === record.name);
  return m !== undefined && m.role === 'primary' && m.state === 'running' && m.generation === record.generation;
}

function converge(
  o: FailoverObserved,
  cluster: ClusterView,
  config: FailoverConfig,
  dyn: DynamicConfig,
  now: number,
  plan: Plan,
): void {
  const me = config.node;
  const record = cluster.primary;
  const local = o.local;
  if (o.memory.busy !== null) {
    plan.summary = `${me} is ${o.memory.busy}`;
    return;
  }
  if (record === null) {
    if (cluster.initializedBy === null && local.dataDir !== 'replica') {
      plan.actions.push({ kind: 'initialize', config: dyn });
      plan.summary = `bootstrapping the cluster on ${me}${local.dataDir === 'empty' ? ' (initdb)' : ' (existing data directory)'}`;
    } else plan.summary = `waiting for a primary record (initialized by ${cluster.initializedBy ?? 'nobody'})`;
    return;
  }
  if (record.name === me) return convergePrimary(o, cluster, record, dyn, plan);
  const target = endpointOf(cluster, record.name);
  const serving = primaryServing(cluster, record);
  const s = local.status;
  if (cluster.reinit.includes(me) && target !== null && serving) {
    plan.actions.push({ kind: 'reclone', from: target }, { kind: 'clear-reinit', name: me });
    plan.summary = `reinitializing ${me} from ${record.name}`;
    return;
  }
  if (s !== null && !s.inRecovery && !s.readOnly && record.demoting === null) {
    plan.actions.push({ kind: 'fence', reason: `${record.name} is the primary (generation ${record.generation})` });
    plan.summary = `fencing ${me}: it is writable but ${record.name} is the primary`;
    plan.events.push({ severity: 'warn', kind: 'fenced', message: plan.summary });
    return;
  }
  if (target === null) {
    plan.summary = `waiting for ${record.name} to report`;
    return;
  }
  if (local.dataDir === 'empty') {
    if (serving) {
      plan.actions.push({ kind: 'clone', from: target });
      plan.summary = `cloning ${me} from ${record.name} (pg_basebackup)`;
    } else plan.summary = `waiting for ${record.name} to serve before cloning`;
    return;
  }
  if (local.dataDir === 'primary' || (s !== null && !s.inRecovery)) {
    if (serving) {
      plan.actions.push({ kind: 'rejoin', from: target });
      plan.summary = `rejoining ${me} as a replica of ${record.name} (pg_rewind)`;
    } else plan.summary = `former primary ${me} waits for ${record.name} to serve`;
    return;
  }
  if (local.following !== record.name) {
    plan.actions.push({ kind: 'follow', to: target });
    plan.summary = `pointing ${me} at ${record.name}`;
  }
  if (serving && !local.running && o.memory.startFailures >= 2) {
    plan.actions.push({ kind: 'reclone', from: target });
    plan.summary = `${me} failed to start ${o.memory.startFailures} times as a replica: re-cloning from ${record.name}`;
    plan.events.push({ severity: 'warn', kind: 'reclone', message: plan.summary });
    return;
  }
  if (
    serving &&
    local.following === record.name &&
    local.notStreamingSince !== null &&
    now - local.notStreamingSince > notStreamingLimitMs
  ) {
    plan.actions.push({ kind: 'rejoin', from: target });
    plan.summary = `${me} has not streamed from ${record.name} for ${Math.round((now - local.notStreamingSince) / 1000)} s (diverged history?): rewinding it`;
    plan.events.push({ severity: 'warn', kind: 'rejoin', message: plan.summary });
    return;
  }
  if (!local.running) {
    plan.actions.push({ kind: 'start', as: 'replica' });
    plan.summary = `starting ${me} as a replica of ${record.name}`;
  }
}

function convergePrimary(
  o: FailoverObserved,
  cluster: ClusterView,
  record: PrimaryRecord,
  dyn: DynamicConfig,
  plan: Plan,
): void {
  const local = o.local;
  const s = local.status;
  const me = record.name;
  if (record.demoting !== null) {
    if (local.running && s !== null && !s.inRecovery && o.memory.demoted?.generation !== record.generation) {
      plan.actions.push({ kind: 'demote', generation: record.generation });
      plan.summary = `switchover: demoting ${me} (checkpoint, clean shutdown) for ${record.demoting.to}`;
    } else plan.summary = `switchover: ${me} demoted, waiting for ${record.demoting.to}`;
    return;
  }
  if (local.dataDir === 'empty') {
    plan.summary = `${me} is named primary but has no data directory`;
    plan.problem = plan.summary;
    return;
  }
  if (!local.running) {
    if (o.memory.crashedGeneration === record.generation || o.memory.servedGeneration === record.generation) {
      plan.summary = `postgres of primary ${me} crashed: waiting for the leader (failover, or restart in place)`;
      plan.problem = `postgres of ${me} crashed`;
      if (o.memory.crashedGeneration !== record.generation) {
        plan.actions.push({ kind: 'remember-crash', generation: record.generation });
        plan.events.push({ severity: 'error', kind: 'primary-crashed', message: plan.summary });
      }
      return;
    }
    plan.actions.push({ kind: 'start', as: local.dataDir === 'replica' ? 'replica' : 'primary' });
    plan.summary = `starting ${me} (primary, generation ${record.generation})`;
    return;
  }
  if (s === null) {
    plan.summary = `${me} is starting`;
    return;
  }
  if (s.inRecovery) {
    plan.actions.push({ kind: 'promote', generation: record.generation, catchUpTimeoutMs: dyn.failoverTimeoutMs });
    plan.summary = `promoting ${me} (generation ${record.generation})`;
    return;
  }
  if (s.readOnly) {
    plan.actions.push({ kind: 'unfence' });
    plan.summary = `lifting the fence on ${me}: it is the primary of generation ${record.generation}`;
    return;
  }
  if (o.memory.promoted?.generation !== record.generation)
    plan.actions.push({ kind: 'first-write', generation: record.generation });
  if (s.currentLsn !== null && (cluster.optimeLsn === null || s.currentLsn !== cluster.optimeLsn))
    plan.actions.push({ kind: 'write-optime', lsn: s.currentLsn });
  syncDuties(o, cluster, dyn, me, plan);
}

/**
 * Synchronous mode, so that the `sync` record always names a superset of the standbys that may hold
 * acknowledged commits: add a standby to synchronous_standby_names first and to the record once it
 * has caught up; remove it from the record first and from synchronous_standby_names after.
 */
function syncDuties(o: FailoverObserved, cluster: ClusterView, dyn: DynamicConfig, me: string, plan: Plan): void {
  const s = o.local.status;
  if (s === null) return;
  const record = cluster.sync?.primary === me ? cluster.sync.members : [];
  const ssn = o.local.syncStandbyNames;
  const wanted = dyn.synchronousMode
    ? s.replication
        .filter((r) => r.state === 'streaming' && cluster.members.some((m) => m.name === r.name && !m.noFailover))
        .map((r) => r.name)
        .sort()
    : [];
  const caughtUp = (name: string): boolean => {
    const row = s.replication.find((r) => r.name === name);
    const since = o.memory.ssnLsn;
    return (
      row !== undefined &&
      ['sync', 'quorum'].includes(row.syncState) &&
      ssn.includes(name) &&
      since !== null &&
      row.flushLsn !== null &&
      row.flushLsn >= since
    );
  };
  const nextRecord = [
    ...record.filter((n) => wanted.includes(n)),
    ...wanted.filter((n) => !record.includes(n) && caughtUp(n)),
  ].sort();
  if (cluster.sync?.primary !== me || nextRecord.join() !== [...record].sort().join()) {
    plan.actions.push({ kind: 'write-sync', record: { primary: me, members: nextRecord } });
    return;
  }
  const nextSsn = [...new Set([...wanted, ...record])].sort();
  if (nextSsn.join() !== [...ssn].sort().join()) plan.actions.push({ kind: 'set-sync-standbys', names: nextSsn });
}

/* ---------------- the leader ---------------- */

function lead(
  o: FailoverObserved,
  cluster: ClusterView,
  dyn: DynamicConfig,
  now: number,
  plan: Plan,
  me: string,
): void {
  if (!o.etcd.leader) {
    if (!o.etcd.campaigning) plan.actions.push({ kind: 'campaign' });
    return;
  }
  const record = cluster.primary;
  if (record === null) return;
  completeHistory(cluster, record, plan);
  if (record.name === me && cluster.campaigners > 1 && record.demoting === null && cluster.switchover === null) {
    plan.actions.push({ kind: 'resign' });
    return;
  }
  if (cluster.switchover !== null || record.demoting !== null) return planned(o, cluster, record, dyn, now, plan);
  const report = cluster.members.find((m) => m.name === record.name);
  const peer = o.peers.find((p) => p.name === record.name);
  const failure = primaryFailure(record.name, record.generation, report, peer);
  if (failure === null) {
    if (report === undefined) plan.problem = `daemon of ${record.name} is down; its postgres still serves`;
    return;
  }
  plan.problem = failure.signal;
  if (dyn.paused) {
    restartInPlace(record, report, now, plan, `automatic failover paused: ${failure.signal}`);
    return;
  }
  const choice = chooseCandidate({
    cluster,
    peers: o.peers,
    oldPrimary: record.name,
    config: dyn,
    requested: null,
    planned: false,
  });
  if (choice.winner === null) {
    restartInPlace(record, report, now, plan, `${failure.signal}; no failover: ${choice.reason}`);
    return;
  }
  const entry = historyEntry('failover', record, choice.winner, failure.signal, choice, now);
  const oldEndpoint = cluster.endpoints[record.name];
  if (failure.mayBeAlive && oldEndpoint !== undefined) plan.actions.push({ kind: 'remote-fence', member: oldEndpoint });
  plan.actions.push({
    kind: 'set-primary',
    record: { name: choice.winner, generation: record.generation + 1, since: now, demoting: null },
    history: entry,
    clearSwitchover: false,
    resetSync: dyn.synchronousMode,
  });
  plan.summary = `promoting ${choice.winner}: ${failure.signal}; ${choice.reason}`;
  plan.events.push({
    severity: 'warn',
    kind: 'failover',
    message: plan.summary,
    fields: { candidates: choice.candidates, bytesLost: choice.bytesLost },
  });
}

function restartInPlace(
  record: PrimaryRecord,
  report: MemberReport | undefined,
  now: number,
  plan: Plan,
  why: string,
): void {
  plan.summary = why;
  if (report !== undefined && report.crashedGeneration === record.generation) {
    plan.actions.push({
      kind: 'set-primary',
      record: { ...record, generation: record.generation + 1, since: now },
      history: null,
      clearSwitchover: false,
      resetSync: false,
    });
    plan.summary = `${why}: restarting ${record.name} in place`;
  }
}

function historyEntry(
  kind: HistoryEntry['kind'],
  record: PrimaryRecord,
  winner: string,
  signal: string,
  choice: ReturnType<typeof chooseCandidate>,
  now: number,
): HistoryEntry {
  return {
    id: `g${record.generation + (kind === 'failover' ? 1 : 2)}`,
    kind,
    startedAt: now,
    detectedAt: now,
    signal,
    oldPrimary: record.name,
    newPrimary: winner,
    candidates: choice.candidates,
    reason: choice.reason,
    catchUpWaitMs: 0,
    promotedAt: null,
    firstWriteAt: null,
    timeToFirstWriteMs: null,
    bytesLost: choice.bytesLost,
    timeline: null,
    outcome: 'in-progress',
    message: `${kind} from ${record.name} to ${winner}`,
  };
}

/** Completes the in-progress flight-recorder entry once the new primary reports its first write. */
function completeHistory(cluster: ClusterView, record: PrimaryRecord, plan: Plan): void {
  const open = cluster.history.find(
    (h) => h.outcome === 'in-progress' && h.id === `g${record.generation}` && h.newPrimary === record.name,
  );
  if (open === undefined) {
    const stale = cluster.history.find(
      (h) => h.outcome === 'in-progress' && Number(h.id.slice(1)) < record.generation && record.demoting === null,
    );
    if (stale !== undefined)
      plan.actions.push({
        kind: 'record-history',
        entry: {
          ...stale,
          outcome: 'aborted',
          message: `${stale.message}: superseded by generation ${record.generation} (${record.name})`,
        },
      });
    return;
  }
  const m = cluster.members.find((r) => r.name === record.name);
  const promoted = m?.promoted;
  if (
    promoted === null ||
    promoted === undefined ||
    promoted.generation !== record.generation ||
    promoted.firstWriteAt === null
  )
    return;
  plan.actions.push({
    kind: 'record-history',
    entry: {
      ...open,
      promotedAt: promoted.promotedAt,
      firstWriteAt: promoted.firstWriteAt,
      timeToFirstWriteMs: promoted.firstWriteAt - open.detectedAt,
      catchUpWaitMs: promoted.catchUpWaitMs,
      timeline: m?.timeline ?? null,
      outcome: 'completed',
      message: `${open.message}: first write ${promoted.firstWriteAt - open.detectedAt} ms after detection`,
    },
  });
}

/** Switchover and manual failover: demote cleanly, wait for the exact LSN, then promote. */
function planned(
  o: FailoverObserved,
  cluster: ClusterView,
  record: PrimaryRecord,
  dyn: DynamicConfig,
  now: number,
  plan: Plan,
): void {
  const req = cluster.switchover;
  if (record.demoting === null) {
    if (req === null) return;
    if (req.from !== record.name) {
      plan.actions.push({ kind: 'clear-switchover', history: null });
      plan.summary = `dropping ${req.kind} request ${req.id}: ${req.from} is no longer the primary`;
      return;
    }
    const choice = chooseCandidate({
      cluster,
      peers: o.peers,
      oldPrimary: record.name,
      config: dyn,
      requested: req.to,
      planned: req.kind === 'switchover',
    });
    if (choice.winner === null) {
      const entry: HistoryEntry = {
        ...historyEntry(req.kind, record, req.to ?? '-', `${req.kind} requested by ${req.by}`, choice, now),
        newPrimary: null,
        outcome: 'aborted',
        message: `${req.kind} refused: ${choice.reason}`,
      };
      plan.actions.push({ kind: 'clear-switchover', history: entry });
      plan.summary = entry.message;
      return;
    }
    const primaryAlive =
      primaryFailure(
        record.name,
        record.generation,
        cluster.members.find((m) => m.name === record.name),
        o.peers.find((p) => p.name === record.name),
      ) === null;
    if (!primaryAlive) {
      const entry = {
        ...historyEntry(
          req.kind,
          record,
          choice.winner,
          `${req.kind} requested by ${req.by} (primary down)`,
          choice,
          now,
        ),
        id: `g${record.generation + 1}`,
      };
      const oldEndpoint = cluster.endpoints[record.name];
      if (oldEndpoint !== undefined) plan.actions.push({ kind: 'remote-fence', member: oldEndpoint });
      plan.actions.push({
        kind: 'set-primary',
        record: { name: choice.winner, generation: record.generation + 1, since: now, demoting: null },
        history: entry,
        clearSwitchover: true,
        resetSync: dyn.synchronousMode,
      });
      plan.summary = `manual failover to ${choice.winner}: ${record.name} is down`;
      return;
    }
    const entry = historyEntry(req.kind, record, choice.winner, `${req.kind} requested by ${req.by}`, choice, now);
    plan.actions.push({
      kind: 'set-primary',
      record: {
        ...record,
        generation: record.generation + 1,
        since: now,
        demoting: { to: choice.winner, requestId: req.id, startedAt: now },
      },
      history: entry,
      clearSwitchover: false,
      resetSync: false,
    });
    plan.summary = `${req.kind}: demoting ${record.name} for ${choice.winner}`;
    return;
  }
  const to = record.demoting.to;
  const old = cluster.members.find((m) => m.name === record.name);
  const cand = cluster.members.find((m) => m.name === to);
  const candLsn = o.peers.find((p) => p.name === to)?.receivedLsn ?? cand?.receivedLsn ?? null;
  const waited = now - record.demoting.startedAt;
  const demoted = old?.demoted?.generation === record.generation ? old.demoted : null;
  if (demoted !== null && candLsn !== null && candLsn > demoted.lsn) {
    plan.actions.push({
      kind: 'set-primary',
      record: { name: to, generation: record.generation + 1, since: now, demoting: null },
      history: null,
      clearSwitchover: true,
      resetSync: dyn.synchronousMode,
    });
    plan.summary = `switchover: ${to} has received ${record.name}'s shutdown checkpoint; promoting it`;
    return;
  }
  if (waited > dyn.failoverTimeoutMs + (demoted === null ? 5000 : 0)) {
    const open = cluster.history.find((h) => h.id === `g${record.generation + 1}`);
    plan.actions.push({
      kind: 'set-primary',
      record: { name: record.name, generation: record.generation + 1, since: now, demoting: null },
      history: null,
      clearSwitchover: true,
      resetSync: false,
    });
    if (open !== undefined)
      plan.actions.push({
        kind: 'record-history',
        entry: {
          ...open,
          id: `g${record.generation + 1}`,
          newPrimary: record.name,
          outcome: 'aborted',
          message: `switchover aborted after ${waited} ms: ${demoted === null ? `${record.name} did not demote` : `${to} did not reach ${mib(demoted.lsn)}`}; ${record.name} restarts as primary`,
        },
      });
    plan.summary = `switchover aborted: ${record.name} stays primary`;
    return;
  }
  plan.summary =
    demoted === null
      ? `switchover: waiting for ${record.name} to shut down cleanly`
      : `switchover: waiting for ${to} to receive LSN ${demoted.lsn}`;
}

/* ---------------- published state ---------------- */

/**
 * The primary of the record whose report has expired (its daemon is gone): still listed, as
 * unreachable at its last recorded optime, so views show it and a manual failover can replace it.
 */
function silentPrimary(name: string, cluster: ClusterView | null): MemberStatus {
  const endpoint = cluster?.endpoints[name];
  return {
    name,
    role: 'primary',
    state: 'unreachable',
    timeline: null,
    receivedLsn: null,
    replayedLsn: null,
    writtenLsn: cluster?.optimeLsn ?? null,
    lagBytes: null,
    lagSeconds: null,
    sync: false,
    healthy: false,
    apiUrl: '',
    pgUrl: endpoint === undefined ? '' : `postgresql://${endpoint.host}:${endpoint.port}/postgres`,
    lastSeenAt: null,
    noFailover: false,
  };
}

function publishState(
  o: FailoverObserved,
  config: FailoverConfig,
  dyn: DynamicConfig,
  self: MemberReport,
  problem: string | null,
): FailoverState {
  const cluster = o.cluster;
  const reports =
    cluster === null
      ? [self]
      : cluster.members.some((m) => m.name === self.name)
        ? cluster.members.map((m) => (m.name === self.name ? self : m))
        : [...cluster.members, self];
  const primaryName = cluster?.primary?.name ?? null;
  const primaryLsn = reports.find((m) => m.name === primaryName)?.writtenLsn ?? cluster?.optimeLsn ?? null;
  const onPrimary = (name: string) =>
    reports.find((m) => m.name === primaryName)?.replication.find((r) => r.name === name);
  const members: MemberStatus[] = reports
    .map((m): MemberStatus => ({
      name: m.name,
      role: m.role,
      state: m.state,
      timeline: m.timeline,
      receivedLsn: m.receivedLsn,
      replayedLsn: m.replayedLsn,
      writtenLsn: m.writtenLsn,
      lagBytes:
        m.role === 'replica' && primaryLsn !== null && m.replayedLsn !== null
          ? Math.max(0, primaryLsn - m.replayedLsn)
          : m.role === 'primary'
            ? 0
            : null,
      lagSeconds: m.role === 'primary' ? 0 : (m.replayLagSeconds ?? onPrimary(m.name)?.replayLagSeconds ?? null),
      syncState: onPrimary(m.name)?.syncState ?? null,
      slots: m.slots ?? [],
      sync: m.sync,
      healthy: ['running', 'streaming'].includes(m.state),
      apiUrl: m.apiUrl,
      pgUrl: `postgresql://${m.host}:${m.port}/postgres`,
      lastSeenAt: m.reportedAt,
      noFailover: m.noFailover,
    }))
    .concat(
      primaryName !== null && !reports.some((m) => m.name === primaryName) ? [silentPrimary(primaryName, cluster)] : [],
    )
    .sort((a, b) => a.name.localeCompare(b.name));
  const leader = cluster?.leaderName ?? null;
  return {
    cluster: config.cluster,
    self: config.node,
    leader:
      leader === null
        ? null
        : {
            name: leader,
            leaseExpiresAt:
              o.etcd.leader && o.etcd.renewedAt !== null ? o.etcd.renewedAt + dyn.ttlSeconds * 1000 : null,
          },
    primary: primaryName,
    config: dyn,
    members,
    history: [...(cluster?.history ?? [])].sort((a, b) => b.startedAt - a.startedAt),
    etcdReachable: cluster !== null,
    lastProblem: problem,
  };
}
