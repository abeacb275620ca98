import { describe, expect, it } from 'vitest';
import { decideFailover } from '../../../src/agents/failover/decide.js';
import { fenceAfterMs } from '../../../src/agents/failover/failover-policy.js';
import type {
  FailoverAction,
  FailoverConfig,
  FailoverObserved,
  SwitchoverRequest,
} from '../../../src/agents/failover/types.js';
import {
  GENERATION,
  LSN,
  NOW,
  crashedReport,
  dynamicConfig,
  endpoint,
  failoverConfig,
  observed,
  peers,
  primaryRecord,
  report,
  replicaStatus,
  reports,
  writableStatus,
} from '../../fixtures/failover-observed.js';

type Action = FailoverAction;
type ActionOf<K extends Action['kind']> = Extract<Action, { kind: K }>;

function decide(o: FailoverObserved, config: FailoverConfig = failoverConfig()): ReturnType<typeof decideFailover> {
  return decideFailover(o, o.now, config);
}

function actionsOf<K extends Action['kind']>(d: { readonly actions: readonly Action[] }, kind: K): ActionOf<K>[] {
  return d.actions.filter((a): a is ActionOf<K> => a.kind === kind);
}

function single<K extends Action['kind']>(d: { readonly actions: readonly Action[] }, kind: K): ActionOf<K> {
  const found = actionsOf(d, kind);
  expect(found, `one ${kind} action among ${d.actions.map((a) => a.kind).join(', ')}`).toHaveLength(1);
  const [action] = found;
  if (action === undefined) throw new Error(`no ${kind} action`);
  return action;
}

const kinds = (d: { readonly actions: readonly Action[] }): string[] => d.actions.map((a) => a.kind);

const MiB = 1024 * 1024;

describe('decideFailover: the leader detects a failed primary', () => {
  it('promotes the replica with the highest fresh LSN when pg0 reports a crash', () => {
    // pg2's stored report is behind pg1, but asked directly it has received more.
    const d = decide(
      observed({
        cluster: { members: reports({ pg0: crashedReport('pg0') }) },
        peers: peers({ pg2: { receivedLsn: 49_500 } }),
      }),
    );

    const set = single(d, 'set-primary');
    expect(set.record).toEqual({ name: 'pg2', generation: GENERATION + 1, since: NOW, demoting: null });
    expect(set.clearSwitchover).toBe(false);
    expect(set.history).not.toBeNull();
    expect(set.history?.kind).toBe('failover');
    expect(set.history?.signal).toContain('pg0');
    expect(set.history?.oldPrimary).toBe('pg0');
    expect(set.history?.newPrimary).toBe('pg2');
    expect(set.history?.outcome).toBe('in-progress');
    expect(set.history?.candidates.map((c) => c.name).sort()).toEqual(['pg1', 'pg2']);
    expect(set.history?.candidates.find((c) => c.name === 'pg2')).toMatchObject({ lsn: 49_500, eligible: true });
    expect(set.history?.candidates.find((c) => c.name === 'pg1')).toMatchObject({ lsn: 49_000, eligible: true });
    // A crash report is conclusive: postgres is gone, nothing to fence.
    expect(actionsOf(d, 'remote-fence')).toEqual([]);
    expect(d.events?.some((e) => e.kind === 'failover')).toBe(true);
  });

  it('falls back to the stored reports when peers were not asked for positions', () => {
    const d = decide(observed({ cluster: { members: reports({ pg0: crashedReport('pg0') }) } }));

    expect(single(d, 'set-primary').record.name).toBe('pg1');
  });

  it('fails over without a remote fence when postgres and daemon of pg0 refuse connections', () => {
    const d = decide(
      observed({ peers: peers({ pg0: { pg: 'refused', api: 'refused', apiEtcdReachable: null, inRecovery: null } }) }),
    );

    const set = single(d, 'set-primary');
    expect(set.record.name).toBe('pg1');
    expect(set.record.generation).toBe(GENERATION + 1);
    expect(set.history?.signal).toMatch(/pg0.*refuse/);
    expect(actionsOf(d, 'remote-fence')).toEqual([]);
  });

  it('fences pg0 remotely before promoting when its lease expired and its postgres times out', () => {
    const d = decide(
      observed({
        cluster: { members: reports({ pg0: null }) },
        peers: peers({ pg0: { pg: 'timeout', api: 'timeout', apiEtcdReachable: null, inRecovery: null } }),
      }),
    );

    const fence = single(d, 'remote-fence');
    expect(fence.member).toEqual(endpoint('pg0'));
    expect(single(d, 'set-primary').record.name).toBe('pg1');
    expect(kinds(d).indexOf('remote-fence')).toBeLessThan(kinds(d).indexOf('set-primary'));
    expect(single(d, 'set-primary').history?.signal).toMatch(/lease of pg0 expired/);
  });

  it('does not fail over when pg0 daemon is gone but its postgres still serves as a primary', () => {
    const d = decide(
      observed({
        cluster: { members: reports({ pg0: null }) },
        peers: peers({ pg0: { pg: 'ok', api: 'refused', apiEtcdReachable: null, inRecovery: false } }),
      }),
    );

    expect(actionsOf(d, 'set-primary')).toEqual([]);
    expect(actionsOf(d, 'remote-fence')).toEqual([]);
    expect(d.publish.lastProblem).toMatch(/daemon of pg0 is down/);
    // The silent primary stays in the published members, unreachable at its last optime.
    expect(d.publish.members.find((m) => m.name === 'pg0')).toMatchObject({
      role: 'primary',
      state: 'unreachable',
      healthy: false,
      writtenLsn: LSN.pg0,
    });
  });

  it('does nothing while pg0 is healthy', () => {
    const d = decide(observed());

    expect(actionsOf(d, 'set-primary')).toEqual([]);
    expect(d.publish.lastProblem).toBeNull();
    expect(d.publish.primary).toBe('pg0');
  });
});

describe('decideFailover: asynchronous replication and the lag budget', () => {
  const pg0Refuses = peers({ pg0: { pg: 'refused', api: 'refused', apiEtcdReachable: null, inRecovery: null } });

  it('does not choose a replica lagging more than lagBudgetBytes', () => {
    const optime = 10 * MiB;
    const d = decide(
      observed({
        cluster: {
          optimeLsn: optime,
          config: dynamicConfig({ lagBudgetBytes: MiB }),
          members: reports({
            pg0: crashedReport('pg0'),
            pg1: { receivedLsn: optime - 2 * MiB },
            pg2: { receivedLsn: optime - MiB / 2 },
          }),
        },
      }),
    );

    const set = single(d, 'set-primary');
    expect(set.record.name).toBe('pg2');
    const pg1 = set.history?.candidates.find((c) => c.name === 'pg1');
    expect(pg1).toMatchObject({ eligible: false, lagBytes: 2 * MiB });
    expect(pg1?.reason).toMatch(/over budget/);
    expect(set.history?.bytesLost).toBe(MiB / 2);
  });

  it('promotes nobody when every replica lags beyond the budget', () => {
    const optime = 10 * MiB;
    const d = decide(
      observed({
        cluster: {
          optimeLsn: optime,
          members: reports({ pg1: { receivedLsn: optime - 2 * MiB }, pg2: { receivedLsn: optime - 3 * MiB } }),
        },
        peers: pg0Refuses,
      }),
    );

    expect(actionsOf(d, 'set-primary')).toEqual([]);
    expect(actionsOf(d, 'remote-fence')).toEqual([]);
    expect(d.summary).toMatch(/no failover: no eligible candidate/);
    expect(d.publish.lastProblem).toMatch(/pg0/);
  });
});

describe('decideFailover: synchronous mode', () => {
  const syncCluster = { config: dynamicConfig({ synchronousMode: true }), sync: { primary: 'pg0', members: ['pg2'] } };

  it('promotes the synchronous standby even when another replica has a higher LSN', () => {
    const d = decide(
      observed({
        cluster: {
          ...syncCluster,
          members: reports({ pg0: crashedReport('pg0'), pg1: { receivedLsn: 49_900 }, pg2: { receivedLsn: 48_000 } }),
        },
      }),
    );

    const set = single(d, 'set-primary');
    expect(set.record.name).toBe('pg2');
    expect(set.resetSync).toBe(true);
    expect(set.history?.bytesLost).toBe(0);
    expect(set.history?.candidates.find((c) => c.name === 'pg1')).toMatchObject({
      eligible: false,
      reason: 'not a synchronous standby',
    });
  });

  it('promotes nobody when the synchronous standby is unreachable', () => {
    const d = decide(
      observed({
        cluster: { ...syncCluster, members: reports({ pg1: { receivedLsn: 49_900 } }) },
        peers: peers({
          pg0: { pg: 'refused', api: 'refused', apiEtcdReachable: null, inRecovery: null },
          pg2: { pg: 'refused', api: 'refused', apiEtcdReachable: null, inRecovery: null },
        }),
      }),
    );

    expect(actionsOf(d, 'set-primary')).toEqual([]);
    expect(d.summary).toMatch(/synchronous standby pg2 unreachable/);
  });

  it('only restarts a crashed pg0 in place when the synchronous standby is unreachable', () => {
    const d = decide(
      observed({
        cluster: { ...syncCluster, members: reports({ pg0: crashedReport('pg0'), pg1: { receivedLsn: 49_900 } }) },
        peers: peers({ pg2: { pg: 'refused', api: 'refused', apiEtcdReachable: null, inRecovery: null } }),
      }),
    );

    const set = single(d, 'set-primary');
    expect(set.record.name).toBe('pg0');
    expect(set.history).toBeNull();
  });
});

describe('decideFailover: paused', () => {
  const paused = dynamicConfig({ paused: true });

  it('does not fail over while automatic failover is paused', () => {
    const d = decide(
      observed({
        cluster: { config: paused },
        peers: peers({ pg0: { pg: 'refused', api: 'refused', apiEtcdReachable: null, inRecovery: null } }),
      }),
    );

    expect(actionsOf(d, 'set-primary')).toEqual([]);
    expect(actionsOf(d, 'remote-fence')).toEqual([]);
    expect(d.summary).toMatch(/paused/);
    expect(d.publish.lastProblem).toMatch(/pg0/);
  });

  it('restarts a crashed primary in place under a new generation', () => {
    const d = decide(observed({ cluster: { config: paused, members: reports({ pg0: crashedReport('pg0') }) } }));

    const set = single(d, 'set-primary');
    expect(set.record).toEqual({ name: 'pg0', generation: GENERATION + 1, since: NOW, demoting: null });
    expect(set.history).toBeNull();
    expect(d.summary).toMatch(/restarting pg0 in place/);
  });
});

describe('decideFailover: a daemon that is not the leader', () => {
  it('campaigns and never writes the primary record', () => {
    const d = decide(
      observed({
        etcd: { leader: false, campaigning: false },
        cluster: { leaderName: 'pg2', members: reports({ pg0: crashedReport('pg0') }) },
      }),
    );

    expect(single(d, 'campaign')).toEqual({ kind: 'campaign' });
    expect(actionsOf(d, 'set-primary')).toEqual([]);
  });

  it('does not campaign again while its campaign is pending', () => {
    const d = decide(observed({ etcd: { leader: false, campaigning: true }, cluster: { leaderName: 'pg2' } }));

    expect(actionsOf(d, 'campaign')).toEqual([]);
  });
});

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

describe('decideFailover: the local server converges on the primary record', () => {
  it('promotes itself when named primary while still in recovery', () => {
    const record = primaryRecord({ name: 'pg1', generation: GENERATION + 1 });
    const d = decide(
      observed({
        cluster: { primary: record, members: reports({ pg0: null, pg1: { generation: GENERATION + 1 } }) },
        local: { following: 'pg0', status: replicaStatus() },
      }),
    );

    expect(single(d, 'promote')).toEqual({
      kind: 'promote',
      generation: GENERATION + 1,
      catchUpTimeoutMs: dynamicConfig().failoverTimeoutMs,
    });
    expect(actionsOf(d, 'set-primary')).toEqual([]);
    expect(actionsOf(d, 'fence')).toEqual([]);
    // Promotion runs first; the changed report goes out after it, not an etcd round trip before.
    expect(d.actions.map((a) => a.kind)).toEqual(['promote', 'publish']);
  });

  it('fences itself when writable while the record names pg0', () => {
    const d = decide(observed({ local: { dataDir: 'primary', following: null, status: writableStatus() } }));

    const fence = single(d, 'fence');
    expect(fence.reason).toMatch(/pg0 is the primary/);
    expect(d.actions[0]?.kind).toBe('fence');
    expect(actionsOf(d, 'promote')).toEqual([]);
    expect(d.events?.some((e) => e.kind === 'fenced')).toBe(true);
  });

  it('leaves a fenced (read-only) former primary alone rather than fencing it again', () => {
    const d = decide(
      observed({ local: { dataDir: 'primary', following: null, status: writableStatus({ readOnly: true }) } }),
    );

    expect(actionsOf(d, 'fence')).toEqual([]);
    expect(single(d, 'rejoin').from).toEqual(endpoint('pg0'));
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
});

describe('decideFailover: switchover', () => {
  const request: SwitchoverRequest = {
    id: 'sw1',
    kind: 'switchover',
    from: 'pg0',
    to: 'pg2',
    by: 'alice',
    at: NOW - 50,
  };

  it('starts the switchover by marking pg0 as demoting for pg2', () => {
    const d = decide(observed({ cluster: { switchover: request } }));

    const set = single(d, 'set-primary');
    expect(set.record.name).toBe('pg0');
    expect(set.record.generation).toBe(GENERATION + 1);
    expect(set.record.demoting?.to).toBe('pg2');
    expect(set.record.demoting).toEqual({ to: 'pg2', requestId: 'sw1', startedAt: NOW });
    expect(set.clearSwitchover).toBe(false);
    expect(set.history?.kind).toBe('switchover');
    expect(set.history?.signal).toMatch(/alice/);
  });

  describe('once pg0 has demoted', () => {
    const demoting = primaryRecord({
      generation: GENERATION + 1,
      demoting: { to: 'pg2', requestId: 'sw1', startedAt: NOW - 1_000 },
    });
    const demotedPg0 = {
      role: 'primary',
      state: 'stopped',
      generation: GENERATION + 1,
      receivedLsn: null,
      writtenLsn: null,
      demoted: { generation: GENERATION + 1, lsn: 1000, timeline: 1 },
    } as const;
    const during = (pg2Lsn: number, now = NOW): FailoverObserved =>
      observed({
        now,
        cluster: {
          primary: demoting,
          switchover: request,
          members: reports({
            pg0: demotedPg0,
            pg1: { generation: GENERATION + 1 },
            pg2: { generation: GENERATION + 1 },
          }),
        },
        peers: peers({ pg0: { pg: 'refused', api: 'ok', inRecovery: null }, pg2: { receivedLsn: pg2Lsn } }),
      });

    it('promotes pg2 once it has received the shutdown checkpoint', () => {
      const d = decide(during(1001));

      const set = single(d, 'set-primary');
      expect(set.record).toEqual({ name: 'pg2', generation: GENERATION + 2, since: NOW, demoting: null });
      expect(set.clearSwitchover).toBe(true);
      expect(actionsOf(d, 'remote-fence')).toEqual([]);
    });

    it('waits while pg2 has not reached the shutdown checkpoint', () => {
      const d = decide(during(999));

      expect(actionsOf(d, 'set-primary')).toEqual([]);
      expect(d.summary).toMatch(/waiting for pg2 to receive LSN 1000/);
    });

    it('waits when pg2 stands exactly at the checkpoint location (the record itself is not yet received)', () => {
      const d = decide(during(1000));

      expect(actionsOf(d, 'set-primary')).toEqual([]);
    });

    it('aborts after failoverTimeoutMs and keeps pg0 as the primary', () => {
      const timeout = dynamicConfig().failoverTimeoutMs;
      const d = decide(during(999, NOW - 1_000 + timeout + 1));

      const set = single(d, 'set-primary');
      expect(set.record).toMatchObject({ name: 'pg0', generation: GENERATION + 2, demoting: null });
      expect(set.clearSwitchover).toBe(true);
    });
  });
});
