import { describe, expect, it } from 'vitest';
import { fenceAfterMs } from '../../../src/agents/failover/failover-policy.js';
import type { FailoverObserved } from '../../../src/agents/failover/types.js';
import { actionsOf, decide, single } from '../../fixtures/failover-decide.js';
import {
  GENERATION,
  NOW,
  failoverConfig,
  observed,
  peers,
  report,
  replicaStatus,
  writableStatus,
} from '../../fixtures/failover-observed.js';

describe("decideFailover: the primary's own server stops", () => {
  const asPg0 = failoverConfig({ node: 'pg0' });
  const down = { running: false, dataDir: 'primary', following: null, status: null } as const;

  it('a server that served this generation and stopped is a crash, even after a "starting" report in between', () => {
    const starting = report('pg0', { role: 'primary', state: 'starting' });
    const d = decide(
      observed({
        etcd: { leader: false },
        cluster: { leaderName: 'pg1' },
        local: down,
        memory: { servedGeneration: GENERATION, lastReport: starting },
      }),
      asPg0,
    );

    expect(single(d, 'remember-crash').generation).toBe(GENERATION);
    expect(actionsOf(d, 'start')).toEqual([]);
  });

  it('a server that has not served this generation yet is started', () => {
    const d = decide(
      observed({
        etcd: { leader: false },
        cluster: { leaderName: 'pg1' },
        local: down,
        memory: { servedGeneration: GENERATION - 1 },
      }),
      asPg0,
    );

    expect(single(d, 'start').as).toBe('primary');
    expect(actionsOf(d, 'remember-crash')).toEqual([]);
  });
});

describe('decideFailover: a writable server the record does not name', () => {
  it('fences itself when writable while the record names pg0', () => {
    const d = decide(observed({ local: { dataDir: 'primary', following: null, status: writableStatus() } }));

    const fence = single(d, 'fence');
    expect(fence.reason).toMatch(/pg0 is the primary/);
    expect(d.actions[0]?.kind).toBe('fence');
    expect(actionsOf(d, 'promote')).toEqual([]);
    expect(d.events?.some((e) => e.kind === 'fenced')).toBe(true);
  });
});

describe('decideFailover: etcd unreachable on a writable primary', () => {
  const config = failoverConfig();
  const fenceAfter = fenceAfterMs(config.initial);
  const offline = (silentMs: number, overrides: Parameters<typeof observed>[0] = {}): FailoverObserved =>
    observed({
      cluster: null,
      etcd: { reachable: false, renewedAt: NOW - silentMs, leader: false, campaigning: false },
      local: { dataDir: 'primary', following: null, status: writableStatus() },
      ...overrides,
    });

  it('keeps serving up to fenceAfterMs after the last lease renewal', () => {
    const d = decide(offline(fenceAfter), config);

    expect(actionsOf(d, 'fence')).toEqual([]);
    expect(d.summary).toMatch(/keeps serving/);
    expect(d.publish.etcdReachable).toBe(false);
  });

  it('keeps serving past fenceAfterMs when every peer confirms etcd is down (failsafe)', () => {
    const allDown = peers({ pg0: { apiEtcdReachable: false }, pg2: { apiEtcdReachable: false } });
    const d = decide(offline(fenceAfter + 1, { peers: allDown }), config);

    expect(actionsOf(d, 'fence')).toEqual([]);
    expect(d.publish.lastProblem).toMatch(/failsafe/);
  });

  it('fences past fenceAfterMs when one peer cannot confirm etcd is down', () => {
    const oneUnknown = peers({ pg0: { apiEtcdReachable: false }, pg2: { api: 'timeout', apiEtcdReachable: null } });
    const d = decide(offline(fenceAfter + 1, { peers: oneUnknown }), config);

    expect(single(d, 'fence').reason).toMatch(/no lease renewal/);
    expect(d.publish.lastProblem).toMatch(/fenced/);
  });

  it('does not take a client-side "lease lost" during an outage as proof (etcd extends leases when it returns)', () => {
    const d = decide(
      offline(10, {
        etcd: { reachable: false, renewedAt: NOW - 10, leaseLost: true, leader: false, campaigning: false },
      }),
      config,
    );

    expect(actionsOf(d, 'fence')).toEqual([]);
  });

  it('leaves a replica alone', () => {
    const d = decide(offline(fenceAfter + 1_000, { local: { status: replicaStatus() } }), config);

    expect(actionsOf(d, 'fence')).toEqual([]);
  });

  describe('the published primary (what /primary answers from) while etcd is away', () => {
    const allDown = peers({ pg0: { apiEtcdReachable: false }, pg2: { apiEtcdReachable: false } });
    const oneUnknown = peers({ pg0: { apiEtcdReachable: false }, pg2: { api: 'refused', apiEtcdReachable: null } });
    const cases: readonly { name: string; o: FailoverObserved; primary: string | null }[] = [
      { name: 'within the fence margin', o: offline(fenceAfter, { peers: oneUnknown }), primary: config.node },
      { name: 'past it, failsafe', o: offline(fenceAfter + 1, { peers: allDown }), primary: config.node },
      { name: 'past it, fencing', o: offline(fenceAfter + 1, { peers: oneUnknown }), primary: null },
      {
        name: 'already fenced',
        o: offline(10, { local: { status: writableStatus({ readOnly: true }) } }),
        primary: null,
      },
      { name: 'a replica', o: offline(10, { local: { status: replicaStatus() } }), primary: null },
    ];

    it.each(cases)('$name: primary $primary', ({ o, primary }) => {
      const d = decide(o, config);

      expect(d.publish.primary).toBe(primary);
      const me = d.publish.members.find((m) => m.name === config.node);
      if (primary !== null) expect(me).toMatchObject({ role: 'primary', state: 'running' });
    });
  });
});
