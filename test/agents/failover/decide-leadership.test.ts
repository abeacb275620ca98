import { describe, expect, it } from 'vitest';
import { MiB, actionsOf, decide, kinds, single } from '../../fixtures/failover-decide.js';
import {
  GENERATION,
  LSN,
  NOW,
  crashedReport,
  dynamicConfig,
  endpoint,
  observed,
  peers,
  reports,
} from '../../fixtures/failover-observed.js';

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

  it('promotes in the same pass when the leader itself wins, and leaves another winner to its own daemon', () => {
    const crashed = { members: reports({ pg0: crashedReport('pg0') }) };
    const own = single(decide(observed({ cluster: crashed })), 'set-primary');
    const other = single(
      decide(observed({ cluster: crashed, peers: peers({ pg2: { receivedLsn: 49_500 } }) })),
      'set-primary',
    );

    expect(own.record.name).toBe('pg1');
    expect(own.promote).toMatchObject({ catchUpTimeoutMs: 5000 });
    expect(other.record.name).toBe('pg2');
    expect(other.promote).toBeUndefined();
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

  it('reads a synchronous standby whose daemon is gone from its postgres: promotes the other one at the same LSN', () => {
    const both = { ...syncCluster, sync: { primary: 'pg0', members: ['pg1', 'pg2'] } };
    const d = decide(
      observed({
        cluster: { ...both, members: reports({ pg0: crashedReport('pg0'), pg1: { receivedLsn: 49_000 }, pg2: null }) },
        peers: peers({ pg2: { api: 'refused', apiEtcdReachable: null, receivedLsn: 49_000 } }),
      }),
    );

    const set = single(d, 'set-primary');
    expect(set.record.name).toBe('pg1');
    expect(set.history?.bytesLost).toBe(0);
  });

  it('promotes nobody when a synchronous standby whose daemon is gone holds more WAL than every candidate', () => {
    const both = { ...syncCluster, sync: { primary: 'pg0', members: ['pg1', 'pg2'] } };
    const d = decide(
      observed({
        cluster: { ...both, members: reports({ pg0: crashedReport('pg0'), pg1: { receivedLsn: 49_000 }, pg2: null }) },
        peers: peers({ pg2: { api: 'refused', apiEtcdReachable: null, receivedLsn: 49_500 } }),
      }),
    );

    expect(actionsOf(d, 'set-primary').filter((a) => a.record.name !== 'pg0')).toEqual([]);
    expect(d.summary).toMatch(/pg2 \(its daemon is gone\) holds WAL that pg1 has not received/);
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
