import { describe, expect, it } from 'vitest';
import type { FailoverObserved, SwitchoverRequest } from '../../../src/agents/failover/types.js';
import { actionsOf, decide, single } from '../../fixtures/failover-decide.js';
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

  describe('with no member requested', () => {
    const open: SwitchoverRequest = { ...request, to: null };
    // pg2 has received more than pg1, the deciding leader
    const ahead = peers({ pg2: { receivedLsn: 49_500 } });

    it('picks the leader (pg1) over a replica with a higher LSN: it promotes in the pass that writes the record', () => {
      const d = decide(observed({ cluster: { switchover: open }, peers: ahead }));

      const set = single(d, 'set-primary');
      expect(set.record.demoting?.to).toBe('pg1');
      expect(set.history?.newPrimary).toBe('pg1');
      expect(set.history?.reason).toMatch(/the leader/);
      expect(set.history?.candidates.find((c) => c.name === 'pg2')?.reason).toMatch(/not the leader/);
    });

    it('picks the highest LSN when the leader is not eligible', () => {
      const d = decide(
        observed({
          cluster: { switchover: open, members: reports({ pg1: { noFailover: true } }) },
          peers: ahead,
        }),
      );

      expect(single(d, 'set-primary').record.demoting?.to).toBe('pg2');
    });

    it('picks the highest LSN in a manual failover (not a switchover)', () => {
      const d = decide(observed({ cluster: { switchover: { ...open, kind: 'manual-failover' } }, peers: ahead }));

      expect(single(d, 'set-primary').record.demoting?.to).toBe('pg2');
    });
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

    it('waits while pg2 has not reached the shutdown checkpoint (the candidate looks at its own server; the leader waits for a wake)', () => {
      const d = decide(during(999));

      expect(actionsOf(d, 'set-primary')).toEqual([]);
      expect(d.summary).toMatch(/waiting for pg2 to receive LSN 1000/);
      expect(d.requeueAfterMs).toBe(dynamicConfig().loopIntervalMs);
    });

    it('waits when pg2 stands exactly at the checkpoint location (the record itself is not yet received)', () => {
      const d = decide(during(1000));

      expect(actionsOf(d, 'set-primary')).toEqual([]);
    });

    it('promotes pg2 without a promote of its own: the record alone tells pg2 to promote', () => {
      expect(single(decide(during(1001)), 'set-primary').promote).toBeUndefined();
    });

    describe('when the leader pg1 is itself the candidate', () => {
      const toPg1 = primaryRecord({
        generation: GENERATION + 1,
        demoting: { to: 'pg1', requestId: 'sw1', startedAt: NOW - 1_000 },
      });
      const leading = (localLsn: number): FailoverObserved =>
        observed({
          cluster: {
            primary: toPg1,
            switchover: { ...request, to: 'pg1' },
            members: reports({
              pg0: demotedPg0,
              // Its own report went out before the shutdown checkpoint arrived.
              pg1: { generation: GENERATION + 1, receivedLsn: 900 },
              pg2: { generation: GENERATION + 1 },
            }),
          },
          local: { status: replicaStatus({ receivedLsn: localLsn, replayedLsn: localLsn }) },
          peers: peers({ pg0: { pg: 'refused', api: 'ok', inRecovery: null } }),
        });

      it('reads its own server, not its report a pass old, and promotes it right after the record is written', () => {
        const d = decide(leading(1001));

        const set = single(d, 'set-primary');
        expect(set.record).toEqual({ name: 'pg1', generation: GENERATION + 2, since: NOW, demoting: null });
        expect(set.promote).toEqual({ catchUpTimeoutMs: dynamicConfig().failoverTimeoutMs });
        expect(actionsOf(d, 'promote')).toEqual([]);
      });

      it('waits while its own server has not received the shutdown checkpoint, looking at it again within 5 ms', () => {
        const d = decide(leading(1000));

        expect(actionsOf(d, 'set-primary')).toEqual([]);
        expect(d.summary).toMatch(/waiting for pg1 to receive LSN 1000/);
        expect(d.requeueAfterMs).toBe(5);
      });
    });

    it('aborts after failoverTimeoutMs and keeps pg0 as the primary', () => {
      const timeout = dynamicConfig().failoverTimeoutMs;
      const d = decide(during(999, NOW - 1_000 + timeout + 1));

      const set = single(d, 'set-primary');
      expect(set.record).toMatchObject({ name: 'pg0', generation: GENERATION + 2, demoting: null });
      expect(set.clearSwitchover).toBe(true);
    });
  });

  describe('when pg0 crashes before its clean shutdown', () => {
    const demoting = primaryRecord({
      generation: GENERATION + 1,
      demoting: { to: 'pg2', requestId: 'sw1', startedAt: NOW - 100 },
    });
    const crashed = {
      role: 'primary',
      state: 'crashed',
      generation: GENERATION + 1,
      crashedGeneration: GENERATION + 1,
    } as const;

    it('fails over at once to the best candidate instead of waiting for the demotion', () => {
      const d = decide(
        observed({
          cluster: { primary: demoting, switchover: request, members: reports({ pg0: crashed }) },
          peers: peers({ pg0: { pg: 'refused', api: 'ok', inRecovery: null } }),
        }),
      );

      const set = single(d, 'set-primary');
      expect(set.record).toEqual({ name: 'pg1', generation: GENERATION + 2, since: NOW, demoting: null });
      expect(set.clearSwitchover).toBe(true);
      expect(set.history?.kind).toBe('failover');
      expect(d.summary).toMatch(/pg0 crashed during the switchover/);
    });

    it('keeps waiting for a demotion that reported its shutdown checkpoint', () => {
      const d = decide(
        observed({
          cluster: {
            primary: demoting,
            switchover: request,
            members: reports({
              pg0: {
                ...crashed,
                state: 'stopped',
                crashedGeneration: null,
                demoted: { generation: GENERATION + 1, lsn: 1000, timeline: 1 },
              },
            }),
          },
          peers: peers({ pg0: { pg: 'refused', api: 'ok', inRecovery: null }, pg2: { receivedLsn: 999 } }),
        }),
      );

      expect(actionsOf(d, 'set-primary')).toEqual([]);
    });
  });

  it('the demoting primary whose postgres died before its shutdown checkpoint reports a crash', () => {
    const demoting = primaryRecord({
      generation: GENERATION + 1,
      demoting: { to: 'pg2', requestId: 'sw1', startedAt: NOW - 100 },
    });
    const d = decide(
      observed({
        etcd: { leader: false },
        cluster: { primary: demoting, switchover: request },
        local: { running: false, dataDir: 'primary', following: null, status: null },
      }),
      failoverConfig({ node: 'pg0' }),
    );

    expect(single(d, 'remember-crash').generation).toBe(GENERATION + 1);
    expect(d.summary).toMatch(/crashed during the switchover/);
  });
});
