import type { AgentRoute } from '../kernel/agent.js';
import type { AgentSnapshot } from '../kernel/snapshot.js';
import type { FailoverDeps } from './deps.js';
import type { FailoverState, MemberStatus } from './types.js';

type Reply = { readonly status: number; readonly body: unknown };

function self(reader: () => AgentSnapshot<FailoverState>): { state: FailoverState; me: MemberStatus } | null {
  const state = reader().state;
  const me = state?.members.find((m) => m.name === state.self);
  return state === undefined || me === undefined ? null : { state, me };
}

const unavailable: Reply = { status: 503, body: { error: { code: 'unavailable', message: 'no pass yet' } } };

/**
 * Load-balancer endpoints (haproxy `option httpchk`): `/primary` is 200 only on the writable primary
 * of the current record; `/replica?lag=BYTES` is 200 on a streaming replica within the lag;
 * `/history` is the flight recorder; `/member` is what peers ask during an etcd outage.
 */
export function failoverRoutes(deps: FailoverDeps, reader: () => AgentSnapshot<FailoverState>): readonly AgentRoute[] {
  return [
    {
      method: 'GET',
      path: '/primary',
      handle: async (): Promise<Reply> => {
        const s = self(reader);
        if (s === null) return unavailable;
        const ok = s.me.role === 'primary' && s.me.state === 'running' && s.state.primary === s.me.name;
        return { status: ok ? 200 : 503, body: { role: s.me.role, state: s.me.state, primary: s.state.primary } };
      },
    },
    {
      method: 'GET',
      path: '/replica',
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
        const lagOk = maxLag === null || (s.me.lagBytes !== null && s.me.lagBytes <= maxLag);
        const ok = s.me.role === 'replica' && s.me.state === 'streaming' && lagOk;
        return { status: ok ? 200 : 503, body: { role: s.me.role, state: s.me.state, lagBytes: s.me.lagBytes } };
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
