import type { AgentRoute } from '../kernel/agent.js';
import type { AgentSnapshot } from '../kernel/snapshot.js';
import type { FailoverDeps } from './deps.js';
import type { FailoverState, MemberStatus } from './types.js';

type Reply = { readonly status: number; readonly body: unknown };
type Self = { readonly state: FailoverState; readonly me: MemberStatus };

function self(reader: () => AgentSnapshot<FailoverState>): Self | null {
  const state = reader().state;
  const me = state?.members.find((m) => m.name === state.self);
  return state === undefined || me === undefined ? null : { state, me };
}

const unavailable: Reply = { status: 503, body: { error: { code: 'unavailable', message: 'no pass yet' } } };

const isPrimary = (s: Self): boolean =>
  s.me.role === 'primary' && s.me.state === 'running' && s.state.primary === s.me.name;

const isStreaming = (s: Self, maxLag: number | null): boolean =>
  s.me.role === 'replica' &&
  s.me.state === 'streaming' &&
  (maxLag === null || (s.me.lagBytes !== null && s.me.lagBytes <= maxLag));

/** What a role endpoint answers 200 to; `maxLag` is the `?lag=` bound in bytes (null when not given). */
type RoleCheck = (s: Self, maxLag: number | null) => boolean;

/** Patroni's role endpoints and their aliases, as load balancers (haproxy `option httpchk`) ask them. */
const roleChecks: Readonly<Record<string, RoleCheck>> = {
  '/': isPrimary,
  '/primary': isPrimary,
  '/master': isPrimary,
  '/leader': isPrimary,
  '/read-write': isPrimary,
  '/replica': isStreaming,
  '/standby': isStreaming,
  '/read-only': (s, lag) => isPrimary(s) || isStreaming(s, lag),
  '/sync': (s, lag) => isStreaming(s, lag) && s.me.sync,
  '/synchronous': (s, lag) => isStreaming(s, lag) && s.me.sync,
  '/async': (s, lag) => isStreaming(s, lag) && !s.me.sync,
  '/asynchronous': (s, lag) => isStreaming(s, lag) && !s.me.sync,
  '/readiness': (s) => isPrimary(s) || (s.me.role === 'replica' && ['streaming', 'running'].includes(s.me.state)),
};

/**
 * A replica's lag against where the primary's WAL ends now, read from both servers at request time
 * (the published lag is measured against the primary's last report, up to a loop old); the
 * published lag when either cannot be read.
 */
async function liveLag(deps: FailoverDeps, s: Self): Promise<number | null> {
  const primary = s.state.primary === null ? undefined : deps.peers.get(s.state.primary);
  if (s.me.role !== 'replica' || primary === undefined) return s.me.lagBytes;
  const [primaryLsn, local] = await Promise.all([
    primary.link.currentWalLsn().catch(() => null),
    deps.local.positions().catch(() => null),
  ]);
  return lagBehind(primaryLsn, local?.replayedLsn ?? null) ?? s.me.lagBytes;
}

/** Bytes between the primary's position and a replica's replay position (null when either is unknown). */
export function lagBehind(primaryLsn: number | null, replayedLsn: number | null): number | null {
  return primaryLsn === null || replayedLsn === null ? null : Math.max(0, primaryLsn - replayedLsn);
}

/**
 * With etcd unreachable a replica knows no primary; it answers from its own server instead (as
 * Patroni answers from the local postgres): streaming when its WAL receiver streams, with the lag
 * behind the sender's last reported end of WAL. Its published view otherwise.
 */
async function withoutEtcd(deps: FailoverDeps, s: Self): Promise<Self> {
  if (s.me.role !== 'replica') return s;
  const own = await deps.local.receiverLag().catch(() => null);
  if (own === null) return s;
  const state = own.streaming ? 'streaming' : s.me.state === 'streaming' ? 'running' : s.me.state;
  return { ...s, me: { ...s.me, state, lagBytes: own.lagBytes } };
}

/** The view a role check answers from: its own server's without etcd, the primary's live lag when asked. */
async function liveSelf(deps: FailoverDeps, s: Self, lagAsked: boolean): Promise<Self> {
  if (!s.state.etcdReachable) return withoutEtcd(deps, s);
  if (!lagAsked) return s;
  return { ...s, me: { ...s.me, lagBytes: await liveLag(deps, s) } };
}

function roleRoute(
  path: string,
  check: RoleCheck,
  deps: FailoverDeps,
  reader: () => AgentSnapshot<FailoverState>,
): AgentRoute {
  return {
    method: 'GET',
    path,
    handle: async (query): Promise<Reply> => {
      const s = self(reader);
      if (s === null) return unavailable;
      const raw = query.get('lag');
      const maxLag = raw === null ? null : Number(raw);
      if (maxLag !== null && (!Number.isFinite(maxLag) || maxLag < 0))
        return {
          status: 400,
          body: { error: { code: 'invalid-argument', message: `lag: expected bytes, got "${raw}"`, field: 'lag' } },
        };
      const live = await liveSelf(deps, s, maxLag !== null);
      return {
        status: check(live, maxLag) ? 200 : 503,
        body: { role: s.me.role, state: live.me.state, primary: s.state.primary, lagBytes: live.me.lagBytes },
      };
    },
  };
}

/**
 * Load-balancer endpoints (GET, HEAD and OPTIONS alike): `/primary` (and `/`, `/master`, `/leader`,
 * `/read-write`) is 200 only on the writable primary of the current record; `/replica?lag=BYTES`
 * (and `/standby`, `/sync`, `/async`) on a streaming replica within the lag; `/read-only` on either;
 * `/liveness` while the daemon's loop lives; `/history` is the flight recorder; `/member` is what
 * peers ask during an etcd outage.
 */
export function failoverRoutes(deps: FailoverDeps, reader: () => AgentSnapshot<FailoverState>): readonly AgentRoute[] {
  return [
    ...Object.entries(roleChecks).map(([path, check]) => roleRoute(path, check, deps, reader)),
    {
      method: 'GET',
      path: '/liveness',
      handle: async (): Promise<Reply> => {
        const live = reader().health.live;
        return { status: live ? 200 : 503, body: { live } };
      },
    },
    {
      method: 'GET',
      path: '/history',
      handle: async (): Promise<Reply> => {
        const state = reader().state;
        return state === undefined ? unavailable : { status: 200, body: { history: state.history } };
      },
    },
    {
      method: 'GET',
      path: '/member',
      handle: async (): Promise<Reply> => {
        const s = self(reader);
        return {
          status: 200,
          body: {
            name: deps.config.node,
            etcdReachable: deps.session.snapshot().reachable,
            role: s?.me.role ?? 'unknown',
            state: s?.me.state ?? 'unknown',
          },
        };
      },
    },
  ];
}
