import { describe, expect, it } from 'vitest';
import { actionsOf, decide, single } from '../../fixtures/failover-decide.js';
import { crashedReport, dynamicConfig, observed, peers, reports } from '../../fixtures/failover-observed.js';
import type { PeerView } from '../../../src/agents/failover/types.js';

const campaign = { key: 'election/leader/7', createRevision: 41 };

/** pg1 campaigns behind the leader pg2, which it sees as `pg2`. */
const behindPg2 = (pg2: Partial<PeerView>, leaderName = 'pg2') =>
  decide(
    observed({
      etcd: { leader: false, campaigning: true },
      cluster: { leaderName, leaderCampaign: campaign },
      peers: peers({ pg2 }),
    }),
  );

describe('decideFailover: a campaigning daemon and a leader whose daemon is gone', () => {
  it('deposes the leader by its election key and create revision when its API refuses and its postgres answers', () => {
    const d = behindPg2({ api: 'refused', pg: 'ok' });

    expect(single(d, 'depose-leader')).toMatchObject({ name: 'pg2', ...campaign });
    expect(actionsOf(d, 'set-primary')).toEqual([]);
  });

  it('deposes the leader when its whole node is gone (API and postgres both refuse)', () => {
    expect(single(behindPg2({ api: 'refused', pg: 'refused' }), 'depose-leader').name).toBe('pg2');
  });

  it.each<[string, Partial<PeerView>]>([
    ['a frozen daemon (its API times out, its postgres answers)', { api: 'timeout', pg: 'ok' }],
    ['a partitioned node (API and postgres time out)', { api: 'timeout', pg: 'timeout' }],
    ['a refused API on a host that does not answer otherwise', { api: 'refused', pg: 'timeout' }],
    ['a refused API on a host whose postgres fails in another way', { api: 'refused', pg: 'error' }],
    ['a daemon whose API is not known', { api: 'unknown', pg: 'ok' }],
    ['a daemon whose API answers', { api: 'ok', pg: 'ok' }],
  ])('never deposes %s', (_name, pg2) => {
    expect(actionsOf(behindPg2(pg2), 'depose-leader')).toEqual([]);
  });

  it('never deposes itself, nor a leader whose election key it did not read', () => {
    expect(actionsOf(behindPg2({ api: 'refused' }, 'pg1'), 'depose-leader')).toEqual([]);
    const unread = decide(
      observed({
        etcd: { leader: false, campaigning: true },
        cluster: { leaderName: 'pg2', leaderCampaign: null },
        peers: peers({ pg2: { api: 'refused' } }),
      }),
    );
    expect(actionsOf(unread, 'depose-leader')).toEqual([]);
  });

  it('the leader itself deposes nobody: its own leadership is decided by etcd', () => {
    const d = decide(
      observed({ cluster: { leaderName: 'pg1', leaderCampaign: campaign }, peers: peers({ pg2: { api: 'refused' } }) }),
    );

    expect(actionsOf(d, 'depose-leader')).toEqual([]);
  });
});

describe('decideFailover: a candidate whose daemon is gone while its report still stands', () => {
  // pg2's daemon was killed a moment ago: its report is in etcd until its member lease runs out.
  const both = { config: dynamicConfig({ synchronousMode: true }), sync: { primary: 'pg0', members: ['pg1', 'pg2'] } };
  const gone = (receivedLsn: number) =>
    decide(
      observed({
        cluster: {
          ...both,
          members: reports({ pg0: crashedReport('pg0'), pg1: { receivedLsn: 49_000 }, pg2: { receivedLsn: 49_000 } }),
        },
        peers: peers({ pg2: { api: 'refused', pg: 'ok', inRecovery: true, receivedLsn } }),
      }),
    );

  it('is never chosen (nobody would promote it): the other synchronous standby at the same LSN is', () => {
    const set = single(gone(49_000), 'set-primary');

    expect(set.record.name).toBe('pg1');
    expect(set.history?.bytesLost).toBe(0);
    expect(set.history?.candidates.find((c) => c.name === 'pg2')).toMatchObject({
      eligible: false,
      reason: 'daemon gone (its API refuses connections): nobody would promote it',
    });
  });

  it('still counts as a synchronous copy: nobody is promoted when its postgres holds more WAL', () => {
    const d = gone(49_500);

    expect(actionsOf(d, 'set-primary').filter((a) => a.record.name !== 'pg0')).toEqual([]);
    expect(d.summary).toMatch(/pg2 \(its daemon is gone\) holds WAL that pg1 has not received/);
  });
});
