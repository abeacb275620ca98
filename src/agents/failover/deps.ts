import { request } from 'node:http';
import { EtcdSession } from '../adapters/etcd.js';
import { PgLink } from '../adapters/pg.js';
import type { AgentContext } from '../kernel/context.js';
import type { Logger } from '../kernel/logger.js';
import { PostgresControl } from './postgres-control.js';
import type { DaemonMemory, Endpoint, FailoverConfig, LinkStatus, PeerView, PrimaryRecord } from './types.js';

/** One peer as probed directly: a kept-open postgres connection and its daemon's `/member`. */
export interface PeerProbe {
  readonly endpoint: Endpoint;
  readonly link: PgLink;
  apiUrl: string;
  view: PeerView;
  probedAt: number;
  /** A probe running outside the pass (the peer did not answer the last one), or null. */
  inFlight: Promise<void> | null;
}

export interface FailoverDeps {
  readonly config: FailoverConfig;
  readonly session: EtcdSession;
  readonly pg: PostgresControl;
  readonly local: PgLink;
  /** The other members' probes, by name (never this node's own: observe opens one only for another member). */
  readonly peers: Map<string, PeerProbe>;
  /** For what the daemon does outside a pass (its stop). */
  readonly log: Logger;
}

/**
 * What the daemon remembers between passes, kept by the kernel: what its actions recorded (DaemonMemory),
 * since when its standby has not streamed, and where every member ever reported can be reached (kept
 * after its report expires).
 */
export interface FailoverMemory extends DaemonMemory {
  readonly notStreamingSince: number | null;
  readonly endpoints: Readonly<Record<string, Endpoint>>;
  /** The lease TTL (s) the last report was published under. */
  readonly reportTtl: number | null;
}

export const initialFailoverMemory: FailoverMemory = {
  crashedGeneration: null,
  demoted: null,
  promoted: null,
  lastReport: null,
  busy: null,
  ssnLsn: null,
  startFailures: 0,
  servedGeneration: null,
  seed: null,
  notStreamingSince: null,
  endpoints: {},
  reportTtl: null,
};

/**
 * The part of the memory that `decide` sees (FailoverObserved.memory). A report published under a lease
 * of another TTL went with that lease (the TTL changed): as far as decide knows, none was published.
 */
export function daemonMemory(memory: FailoverMemory, ttl: number): DaemonMemory {
  const { notStreamingSince: _since, endpoints: _endpoints, reportTtl, ...daemon } = memory;
  return reportTtl === ttl ? daemon : { ...daemon, lastReport: null };
}

export const clusterPrefix = (cluster: string): string => `/pgdeck/${cluster}/`;

export async function connectFailover(config: FailoverConfig, ctx: AgentContext): Promise<FailoverDeps> {
  const { wake } = ctx;
  const session = new EtcdSession({
    endpoints: config.etcd,
    prefix: clusterPrefix(config.cluster),
    ttlSeconds: config.initial.ttlSeconds,
    callTimeoutMs: Math.max(300, config.probeTimeoutMs),
    onChange: wake,
  });
  const pg = new PostgresControl({
    name: config.node,
    dataDir: config.dataDir,
    host: config.pgHost,
    port: config.pgPort,
    user: config.pgUser,
    parameters: config.pgParameters,
    ...(config.walSegmentSizeMb === undefined ? {} : { walSegmentSizeMb: config.walSegmentSizeMb }),
    onExit: wake,
  });
  await pg.init();
  const local = new PgLink(
    { host: config.pgHost, port: config.pgPort, user: config.pgUser, database: 'postgres' },
    config.probeTimeoutMs,
    wake,
  );
  return { config, session, pg, local, peers: new Map(), log: ctx.log };
}

/** The kept-open probe of a peer, opened (or reopened at a new address) on first use; `wake` on its changes. */
export function peerFor(deps: FailoverDeps, endpoint: Endpoint, apiUrl: string, wake: () => void): PeerProbe {
  const known = deps.peers.get(endpoint.name);
  if (known !== undefined && known.endpoint.host === endpoint.host && known.endpoint.port === endpoint.port) {
    if (apiUrl !== '') known.apiUrl = apiUrl;
    return known;
  }
  void known?.link.close();
  const probe: PeerProbe = {
    endpoint,
    apiUrl,
    link: new PgLink(
      { host: endpoint.host, port: endpoint.port, user: deps.config.pgUser, database: 'postgres' },
      deps.config.probeTimeoutMs,
      wake,
    ),
    view: {
      name: endpoint.name,
      pg: 'unknown',
      api: 'unknown',
      apiEtcdReachable: null,
      inRecovery: null,
      receivedLsn: null,
      replayedLsn: null,
    },
    probedAt: 0,
    inFlight: null,
  };
  deps.peers.set(endpoint.name, probe);
  return probe;
}

/** Asks the peer's postgres for its positions and its daemon for `/member`, in parallel. */
export async function probePeer(peer: PeerProbe, timeoutMs: number): Promise<void> {
  const [positions, api] = await Promise.all([
    peer.link.positions().then(
      (p) => ({ ok: true as const, ...p }),
      () => ({ ok: false as const }),
    ),
    memberApi(peer.apiUrl, timeoutMs),
  ]);
  peer.view = {
    name: peer.endpoint.name,
    pg: positions.ok ? 'ok' : peer.link.state,
    api: api.status,
    apiEtcdReachable: api.etcdReachable,
    inRecovery: positions.ok ? positions.inRecovery : null,
    receivedLsn: positions.ok ? positions.receivedLsn : null,
    replayedLsn: positions.ok ? positions.replayedLsn : null,
  };
  peer.probedAt = Date.now();
}

/** Whether the peer's last probe went unanswered (a cut-off or frozen host): its next one may take the whole timeout. */
export const silent = (peer: PeerProbe): boolean => peer.view.pg === 'timeout' || peer.view.api === 'timeout';

/**
 * Whether a pass waits for this peer's probe. A silent peer is probed outside the pass, except a
 * candidate while a failover or switchover is decided (`urgent`): its positions choose the winner,
 * and a view left at a timeout (a stalled event loop times out a probe too) rejects it, so a lower
 * candidate would be chosen, or, with none other eligible, a crashed primary restarted in place. The
 * record's primary, whose silence is itself the signal, is never waited for. While a primary demotes
 * normally (`demotionCandidate`) only the candidate's position matters (has it received the shutdown
 * checkpoint?): the pass waits for no other peer (the demoting primary's daemon answers slowly while
 * its postgres shuts down), and for none when this daemon's node is the candidate.
 */
export function probedInPass(
  peer: PeerProbe,
  urgent: boolean,
  primary: string | null,
  demotionCandidate: string | null,
): boolean {
  const name = peer.endpoint.name;
  if (demotionCandidate !== null) return name === demotionCandidate && (urgent || !silent(peer));
  return !silent(peer) || (urgent && name !== primary);
}

/**
 * Probes a silent peer outside the pass: a peer that does not answer would hold every pass for the
 * probe timeout (a cut-off primary's daemon would fence itself late, the leader and the winner would
 * promote late). The pass goes on with its last view; `wake` runs when the view changes.
 */
export function probeInBackground(peer: PeerProbe, timeoutMs: number, wake: () => void): void {
  if (peer.inFlight !== null) return;
  const before = JSON.stringify(peer.view);
  peer.inFlight = probePeer(peer, timeoutMs).finally(() => {
    peer.inFlight = null;
    if (JSON.stringify(peer.view) !== before) wake();
  });
}

/** Whether etcd's primary record names this node at `generation`, not demoting (false when etcd cannot say). */
export async function recordNamesThisNode(deps: FailoverDeps, generation: number): Promise<boolean> {
  const raw = (await deps.session.readAll())?.get('primary')?.value;
  if (raw === undefined) return false;
  const record = JSON.parse(raw) as Partial<PrimaryRecord>;
  return record.name === deps.config.node && record.generation === generation && record.demoting === null;
}

/**
 * Asks every peer daemon now, within `timeoutMs`, whether it can reach etcd: true only when each of
 * them answers that it cannot (then nobody can be promoted). A peer that does not answer is no proof.
 */
export async function peersConfirmEtcdDown(deps: FailoverDeps, timeoutMs: number): Promise<boolean> {
  const peers = [...deps.peers.values()];
  if (peers.length === 0) return false;
  const answers = await Promise.all(peers.map((p) => memberApi(p.apiUrl, timeoutMs)));
  return answers.every((a) => a.etcdReachable === false);
}

function memberApi(apiUrl: string, timeoutMs: number): Promise<{ status: LinkStatus; etcdReachable: boolean | null }> {
  if (apiUrl === '') return Promise.resolve({ status: 'unknown', etcdReachable: null });
  return new Promise((resolve) => {
    const req = request(`${apiUrl}/member`, { method: 'GET', timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        try {
          const parsed = JSON.parse(body) as { etcdReachable?: unknown };
          resolve({
            status: 'ok',
            etcdReachable: typeof parsed.etcdReachable === 'boolean' ? parsed.etcdReachable : null,
          });
        } catch {
          resolve({ status: 'error', etcdReachable: null });
        }
      });
    });
    req.on('timeout', () => {
      req.destroy();
      resolve({ status: 'timeout', etcdReachable: null });
    });
    req.on('error', (error: NodeJS.ErrnoException) =>
      resolve({ status: error.code === 'ECONNREFUSED' ? 'refused' : 'error', etcdReachable: null }),
    );
    req.end();
  });
}
