import type { EtcdEntry } from '../adapters/etcd.js';
import type { ObserveContext } from '../kernel/context.js';
import {
  daemonMemory,
  peerFor,
  probedInPass,
  probeInBackground,
  probePeer,
  type FailoverDeps,
  type FailoverMemory,
  type PeerProbe,
} from './deps.js';
import { demotionFailure, primaryFailure } from './failover-policy.js';
import type {
  ClusterView,
  Endpoint,
  DynamicConfig,
  EtcdSeed,
  FailoverObserved,
  HistoryEntry,
  LocalView,
  MemberReport,
  PrimaryRecord,
  SwitchoverRequest,
  SyncRecord,
} from './types.js';

/** Peers are re-probed at most this often unless a failover decision needs fresh positions. */
const peerProbeEveryMs = 200;

function parse<T>(entry: EtcdEntry | undefined): T | null {
  if (entry === undefined) return null;
  try {
    return JSON.parse(entry.value) as T;
  } catch {
    return null;
  }
}

function clusterView(entries: Map<string, EtcdEntry>, known: Readonly<Record<string, Endpoint>>): ClusterView {
  const members: MemberReport[] = [];
  const history: HistoryEntry[] = [];
  const reinit: string[] = [];
  const campaigns: EtcdEntry[] = [];
  for (const [key, entry] of entries) {
    if (key.startsWith('members/')) {
      const report = parse<MemberReport>(entry);
      if (report !== null) members.push(report);
    } else if (key.startsWith('history/')) {
      const h = parse<HistoryEntry>(entry);
      if (h !== null) history.push(h);
    } else if (key.startsWith('reinit/')) reinit.push(key.slice('reinit/'.length));
    else if (key.startsWith('election/leader/')) campaigns.push(entry);
  }
  const endpoints = { ...known };
  for (const m of members) endpoints[m.name] = { name: m.name, host: m.host, port: m.port };
  const leader = campaigns.sort((a, b) => a.createRevision - b.createRevision)[0];
  const primary = entries.get('primary');
  return {
    initializedBy: entries.get('initialize')?.value ?? null,
    primary: parse<PrimaryRecord>(primary),
    ...(primary === undefined ? {} : { primaryRevision: primary.modRevision }),
    config: parse<DynamicConfig>(entries.get('config')),
    sync: parse<SyncRecord>(entries.get('sync')),
    optimeLsn: parse<{ lsn: number }>(entries.get('optime'))?.lsn ?? null,
    switchover: parse<SwitchoverRequest>(entries.get('switchover')),
    reinit,
    members: members.sort((a, b) => a.name.localeCompare(b.name)),
    history: history.sort((a, b) => b.startedAt - a.startedAt),
    leaderName: leader?.value ?? null,
    leaderCampaign: leader === undefined ? null : { key: leader.key, createRevision: leader.createRevision },
    campaigners: campaigns.length,
    endpoints,
  };
}

/**
 * The local server; `since` is when the memory last saw its standby stop streaming. A standby that
 * streams an older timeline than the primary reports (a history that diverged: it reconnects, reads
 * to the fork and is cut off, over and over) does not count as streaming.
 */
async function localView(deps: FailoverDeps, since: number | null, primaryTimeline: number | null): Promise<LocalView> {
  const proc = deps.pg.local();
  const ssn = /\((.*)\)/.exec(proc.syncStandbyNames)?.[1] ?? '';
  const base = {
    running: proc.running,
    dataDir: proc.dataDir,
    exitedAt: proc.exitedAt,
    following: proc.following,
    syncStandbyNames: ssn === '' ? [] : ssn.split(',').map((n) => n.trim().replace(/^"|"$/g, '')),
  };
  if (!proc.running) return { ...base, notStreamingSince: null, status: null };
  try {
    const s = await deps.local.status();
    const streaming =
      s.receiverStatus === 'streaming' &&
      (primaryTimeline === null || s.timeline === null || s.timeline >= primaryTimeline);
    return {
      ...base,
      notStreamingSince: s.inRecovery && !streaming ? (since ?? Date.now()) : null,
      status: {
        inRecovery: s.inRecovery,
        timeline: s.timeline,
        currentLsn: s.currentLsn,
        receivedLsn: s.receivedLsn,
        replayedLsn: s.replayedLsn,
        readOnly: s.readOnly,
        streaming,
        replication: s.replication,
        replayLagSeconds: s.replayLagSeconds,
        slots: s.slots,
      },
    };
  } catch {
    return { ...base, notStreamingSince: since, status: null };
  }
}

/**
 * Reads etcd, the local server and the peers once into a snapshot; outages are data. Reads the memory
 * and never writes it: the kernel keeps what `memorize` takes from the snapshot.
 */
export async function observeFailover(
  deps: FailoverDeps,
  ctx: ObserveContext<FailoverMemory>,
): Promise<FailoverObserved> {
  const { session, config } = deps;
  const { memory } = ctx;
  const entries = await session.readAll();
  const ttl = parse<DynamicConfig>(entries?.get('config'))?.ttlSeconds;
  if (ttl !== undefined && (await session.setTtl(ttl))) ctx.log.info(`lease TTL is now ${ttl} s (dynamic config)`);
  if (entries !== null) await session.ensureLease().catch(() => undefined);
  const cluster = entries === null ? null : clusterView(entries, memory.endpoints);
  for (const m of cluster?.members ?? [])
    if (m.name !== config.node) peerFor(deps, { name: m.name, host: m.host, port: m.port }, m.apiUrl, ctx.wake);
  for (const [name, endpoint] of Object.entries(cluster?.endpoints ?? memory.endpoints))
    if (name !== config.node && !deps.peers.has(name)) peerFor(deps, endpoint, '', ctx.wake);
  const state = session.snapshot();
  const urgent = state.leader && cluster !== null && needsFreshPositions(cluster, deps);
  const now = Date.now();
  const due = [...deps.peers.values()].filter(
    (p) =>
      p.endpoint.name !== config.node &&
      (urgent || cluster === null || now - p.probedAt >= peerProbeEveryMs || p.link.state !== 'ok'),
  );
  const primary = cluster?.primary?.name ?? null;
  const candidate = cluster === null ? null : demotionCandidate(cluster, deps);
  const inPass = (p: PeerProbe): boolean => probedInPass(p, urgent, primary, candidate);
  for (const p of due.filter((p) => !inPass(p))) probeInBackground(p, config.probeTimeoutMs, ctx.wake);
  const [local] = await Promise.all([
    localView(deps, memory.notStreamingSince, primaryTimeline(cluster, config.node)),
    ...due.filter(inPass).map((p) => p.inFlight ?? probePeer(p, config.probeTimeoutMs)),
  ]);
  return {
    now: Date.now(),
    etcd: {
      reachable: state.reachable,
      renewedAt: state.renewedAt,
      leaseLost: state.leaseLost,
      leader: state.leader,
      campaigning: state.campaigning,
      clusterId: state.clusterId,
    },
    cluster,
    local,
    peers: [...deps.peers.values()].filter((p) => p.endpoint.name !== config.node).map((p) => p.view),
    memory: daemonMemory(memory, session.ttl),
  };
}

/** The timeline the record's primary reports, when another member is the primary. */
function primaryTimeline(cluster: ClusterView | null, me: string): number | null {
  const name = cluster?.primary?.name;
  if (name === undefined || name === me) return null;
  return cluster?.members.find((m) => m.name === name)?.timeline ?? null;
}

/**
 * What the next pass must know of this one: since when the standby has not streamed, the members'
 * addresses, and the seed (what etcd holds of the cluster's memory). A seed from another etcd
 * cluster is kept until it has been written back (the `reseed` action adopts the new cluster id).
 */
export function memorizeFailover(o: FailoverObserved): Partial<FailoverMemory> {
  return {
    notStreamingSince: o.local.notStreamingSince,
    seed: nextSeed(o),
    ...(o.cluster === null ? {} : { endpoints: o.cluster.endpoints }),
  };
}

function nextSeed(o: FailoverObserved): EtcdSeed | null {
  const { cluster } = o;
  const id = o.etcd.clusterId;
  const kept = o.memory.seed;
  if (cluster === null || id === null || (kept !== null && kept.clusterId !== id)) return kept;
  const fresh = new Set(cluster.history.map((h) => h.id));
  return {
    clusterId: id,
    config: cluster.config ?? kept?.config ?? null,
    history: [...cluster.history, ...(kept?.history ?? []).filter((h) => !fresh.has(h.id))],
    primary: cluster.primary ?? kept?.primary ?? null,
    sync: cluster.sync ?? kept?.sync ?? null,
  };
}

/**
 * The candidate of a demotion that goes as planned: the demoting primary reported its clean shutdown,
 * or shows no failure yet (one that crashed turns the switchover into a failover, which needs every
 * candidate's position).
 */
function demotionCandidate(cluster: ClusterView, deps: FailoverDeps): string | null {
  const record = cluster.primary;
  if (record?.demoting == null) return null;
  const report = cluster.members.find((m) => m.name === record.name);
  return demotionFailure(record, report, deps.peers.get(record.name)?.view) === null ? record.demoting.to : null;
}

/** A failover or switchover is being decided: candidates' positions must be asked now, not remembered. */
function needsFreshPositions(cluster: ClusterView, deps: FailoverDeps): boolean {
  const record = cluster.primary;
  if (record === null) return false;
  if (record.demoting !== null || cluster.switchover !== null) return true;
  const peer = deps.peers.get(record.name);
  return (
    primaryFailure(
      record.name,
      record.generation,
      cluster.members.find((m) => m.name === record.name),
      peer?.view,
    ) !== null ||
    (peer !== undefined && peer.link.state !== 'ok')
  );
}
