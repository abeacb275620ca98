import { request } from 'node:http';
import { EtcdSession } from '../adapters/etcd.js';
import { PgLink } from '../adapters/pg.js';
import type { AgentContext } from '../kernel/agent.js';
import { PostgresControl } from './postgres-control.js';
import type { DaemonMemory, Endpoint, FailoverConfig, LinkStatus, PeerView } from './types.js';

/** One peer as probed directly: a kept-open postgres connection and its daemon's `/member`. */
export interface PeerProbe {
  readonly endpoint: Endpoint;
  readonly link: PgLink;
  apiUrl: string;
  view: PeerView;
  probedAt: number;
}

export interface FailoverDeps {
  readonly config: FailoverConfig;
  readonly session: EtcdSession;
  readonly pg: PostgresControl;
  readonly local: PgLink;
  readonly peers: Map<string, PeerProbe>;
  readonly endpoints: Map<string, Endpoint>;
  memory: DaemonMemory;
  notStreamingSince: number | null;
  wake: () => void;
  readonly ctx: AgentContext;
}

export const clusterPrefix = (cluster: string): string => `/pgdeck/${cluster}/`;

export async function connectFailover(config: FailoverConfig, ctx: AgentContext): Promise<FailoverDeps> {
  const wake = (): void => deps.wake();
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
    onExit: wake,
  });
  await pg.init();
  const local = new PgLink(
    { host: config.pgHost, port: config.pgPort, user: config.pgUser, database: 'postgres' },
    config.probeTimeoutMs,
    wake,
  );
  const deps: FailoverDeps = {
    config,
    session,
    pg,
    local,
    peers: new Map(),
    endpoints: new Map(),
    memory: {
      crashedGeneration: null,
      demoted: null,
      promoted: null,
      lastReport: null,
      busy: null,
      ssnLsn: null,
      startFailures: 0,
      servedGeneration: null,
    },
    notStreamingSince: null,
    wake: () => undefined,
    ctx,
  };
  return deps;
}

export function peerFor(deps: FailoverDeps, endpoint: Endpoint, apiUrl: string): PeerProbe {
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
      () => deps.wake(),
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
