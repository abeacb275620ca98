import { describe, expect, it } from 'vitest';
import type { FailoverObserved, MemberReport, SwitchoverRequest } from '../../../src/agents/failover/types.js';
import { actionsOf, decide, kinds, single } from '../../fixtures/failover-decide.js';
import {
  GENERATION,
  NOW,
  dynamicConfig,
  failoverConfig,
  observed,
  peers,
  primaryRecord,
  replicaStatus,
  reports,
} from '../../fixtures/failover-observed.js';

/** The primary key's mod revision as observe reads it. */
const REVISION = 4242;

describe('decideFailover: the switchover candidate takes over without the leader', () => {
  const request: SwitchoverRequest = {
    id: 'sw1',
    kind: 'switchover',
    from: 'pg0',
    to: null,
    by: 'bench',
    at: NOW - 90,
  };
  const demoting = primaryRecord({
    generation: GENERATION + 1,
    demoting: { to: 'pg2', requestId: 'sw1', startedAt: NOW - 200 },
  });
  const demotedPg0: Partial<MemberReport> = {
    role: 'primary',
    state: 'stopped',
    generation: GENERATION + 1,
    receivedLsn: null,
    writtenLsn: null,
    demoted: { generation: GENERATION + 1, lsn: 1000, timeline: 1 },
  };
  const pg2 = failoverConfig({ node: 'pg2' });
  const asPg2 = (o: {
    localLsn?: number;
    leader?: boolean;
    pg0?: Partial<MemberReport>;
    revision?: number | null;
    synchronous?: boolean;
  }): FailoverObserved =>
    observed({
      etcd: { leader: o.leader ?? false },
      cluster: {
        primary: demoting,
        ...(o.revision === null ? {} : { primaryRevision: o.revision ?? REVISION }),
        switchover: request,
        config: dynamicConfig({ synchronousMode: o.synchronous ?? false }),
        members: reports({
          pg0: o.pg0 ?? demotedPg0,
          pg1: { generation: GENERATION + 1 },
          // Its own report went out before the shutdown checkpoint arrived.
          pg2: { generation: GENERATION + 1, receivedLsn: 900 },
        }),
      },
      local: { status: replicaStatus({ receivedLsn: o.localLsn ?? 1001, replayedLsn: o.localLsn ?? 1001 }) },
      peers: peers({ pg0: { pg: 'refused', api: 'ok', inRecovery: null } }),
    });

  it('writes its own promotion on the record revision it read, and promotes in the same pass', () => {
    const d = decide(asPg2({}), pg2);

    const set = single(d, 'set-primary');
    expect(set.record).toEqual({ name: 'pg2', generation: GENERATION + 2, since: NOW, demoting: null });
    expect(set.expectRevision).toBe(REVISION);
    expect(set.byCandidate).toBe(true);
    expect(set.promote).toEqual({ catchUpTimeoutMs: dynamicConfig().failoverTimeoutMs });
    expect(set.clearSwitchover).toBe(true);
    expect(set.resetSync).toBe(false);
    expect(d.summary).toMatch(/pg2 has received pg0's shutdown checkpoint; taking over/);
  });

  it('runs the promoting write before its report goes out (no etcd round trip in front of it)', () => {
    const d = decide(asPg2({}), pg2);

    expect(kinds(d)[0]).toBe('set-primary');
    expect(kinds(d)).toContain('publish');
  });

  it('in synchronous mode resets the sync record with it, as the leader would', () => {
    const set = single(decide(asPg2({ synchronous: true }), pg2), 'set-primary');

    expect(set.resetSync).toBe(true);
    expect(set.promote).toEqual({ catchUpTimeoutMs: dynamicConfig().failoverTimeoutMs });
  });

  it('waits while its server has not received past the shutdown checkpoint, looking again within 5 ms', () => {
    for (const localLsn of [999, 1000]) {
      const d = decide(asPg2({ localLsn }), pg2);
      expect(actionsOf(d, 'set-primary')).toEqual([]);
      expect(d.requeueAfterMs).toBe(5);
    }
  });

  it('waits while the former primary has not reported a clean shutdown of this generation, for the next wake', () => {
    const stale = { ...demotedPg0, demoted: { generation: GENERATION, lsn: 1000, timeline: 1 } };
    for (const pg0 of [{ ...demotedPg0, state: 'running', demoted: null } as const, stale]) {
      const d = decide(asPg2({ pg0 }), pg2);
      expect(actionsOf(d, 'set-primary')).toEqual([]);
      expect(d.requeueAfterMs).toBe(dynamicConfig().loopIntervalMs);
    }
  });

  it('leaves the step to the leader when the record revision is unknown', () => {
    expect(actionsOf(decide(asPg2({ revision: null }), pg2), 'set-primary')).toEqual([]);
  });

  it('does nothing on a member the record does not name', () => {
    const d = decide(asPg2({}), failoverConfig({ node: 'pg1' }));

    expect(actionsOf(d, 'set-primary')).toEqual([]);
    expect(actionsOf(d, 'promote')).toEqual([]);
  });

  it('as the leader, takes the leader step once (not a second take-over write)', () => {
    const d = decide(asPg2({ leader: true }), pg2);

    const set = single(d, 'set-primary');
    expect(set.byCandidate).toBeUndefined();
    expect(set.expectRevision).toBe(REVISION);
    expect(set.promote).toBeDefined();
  });
});

describe('decideFailover: the leader steps from a demoting record on its revision', () => {
  const request: SwitchoverRequest = { id: 'sw1', kind: 'switchover', from: 'pg0', to: 'pg2', by: 'a', at: NOW - 90 };
  const demoting = primaryRecord({
    generation: GENERATION + 1,
    demoting: { to: 'pg2', requestId: 'sw1', startedAt: NOW - 1_000 },
  });
  const during = (pg0: Partial<MemberReport>, pg2Lsn: number, now = NOW): FailoverObserved =>
    observed({
      now,
      cluster: { primary: demoting, primaryRevision: REVISION, switchover: request, members: reports({ pg0 }) },
      peers: peers({ pg0: { pg: 'refused', api: 'ok', inRecovery: null }, pg2: { receivedLsn: pg2Lsn } }),
    });
  const demoted = {
    role: 'primary',
    state: 'stopped',
    generation: GENERATION + 1,
    demoted: { generation: GENERATION + 1, lsn: 1000, timeline: 1 },
  } as const;

  it('the promotion of another candidate', () => {
    const set = single(decide(during(demoted, 1001)), 'set-primary');

    expect(set.record.name).toBe('pg2');
    expect(set.expectRevision).toBe(REVISION);
    expect(set.byCandidate).toBeUndefined();
  });

  it('the abort after failoverTimeoutMs', () => {
    const set = single(
      decide(during(demoted, 999, NOW - 1_000 + dynamicConfig().failoverTimeoutMs + 1)),
      'set-primary',
    );

    expect(set.record.name).toBe('pg0');
    expect(set.expectRevision).toBe(REVISION);
  });

  it('the failover after a crash during the switchover', () => {
    const crashed = {
      role: 'primary',
      state: 'crashed',
      generation: GENERATION + 1,
      crashedGeneration: GENERATION + 1,
    } as const;
    const set = single(decide(during(crashed, 999)), 'set-primary');

    expect(set.history?.kind).toBe('failover');
    expect(set.expectRevision).toBe(REVISION);
  });
});
