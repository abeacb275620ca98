import { describe, expect, it } from 'vitest';
import { checkedTimings } from '../../../src/agents/adapters/kube-leader.js';
import {
  claimRecord,
  leaseVerdict,
  releaseRecord,
  type LeaseRecord,
  type LeaseVerdict,
} from '../../../src/agents/adapters/kube-lease-policy.js';
import { RequestCounter } from '../../../src/agents/adapters/kube-request-counter.js';
import { PgdeckError } from '../../../src/agents/kernel/errors.js';

const NOW = 1_000_000;
const held = (holder: string | null, renewedAgoMs: number, seconds = 15): LeaseRecord => ({
  holder,
  leaseDurationSeconds: seconds,
  acquireTime: NOW - 60_000,
  renewTime: NOW - renewedAgoMs,
  leaseTransitions: 4,
});

describe('leaseVerdict', () => {
  const cases: [string, LeaseRecord | null, LeaseVerdict][] = [
    ['no Lease yet: create it', null, { kind: 'create' }],
    ['mine: renew', held('me', 1000), { kind: 'renew' }],
    ['mine even if expired: renew', held('me', 60_000), { kind: 'renew' }],
    ['released (no holder): acquire', held(null, 0), { kind: 'acquire', reason: 'free' }],
    ['empty holder: acquire', held('', 0), { kind: 'acquire', reason: 'free' }],
    [
      'held, renewed 14.9 s ago of 15: follow',
      held('pg-0', 14_900),
      { kind: 'follow', holder: 'pg-0', until: NOW + 100 },
    ],
    ['held, renewed exactly 15 s ago: expired', held('pg-0', 15_000), { kind: 'acquire', reason: 'expired' }],
    ['held, renewed 20 s ago: expired', held('pg-0', 20_000), { kind: 'acquire', reason: 'expired' }],
    [
      'short lease, renewed 1.5 s ago of 2: follow',
      held('pg-0', 1500, 2),
      { kind: 'follow', holder: 'pg-0', until: NOW + 500 },
    ],
  ];
  it.each(cases)('%s', (_, lease, verdict) => {
    expect(leaseVerdict(lease, 'me', NOW)).toEqual(verdict);
  });
});

describe('lease records', () => {
  it('counts a transition for a new holder, none for a renewal or the first create', () => {
    expect(claimRecord(null, 'me', 15, NOW)).toEqual({
      holder: 'me',
      leaseDurationSeconds: 15,
      acquireTime: NOW,
      renewTime: NOW,
      leaseTransitions: 0,
    });
    const taken = claimRecord(held('pg-0', 20_000), 'me', 15, NOW);
    expect(taken).toMatchObject({ holder: 'me', acquireTime: NOW, leaseTransitions: 5 });
    const renewed = claimRecord(held('me', 2000), 'me', 15, NOW);
    expect(renewed).toMatchObject({ acquireTime: NOW - 60_000, renewTime: NOW, leaseTransitions: 4 });
  });

  it('releases by clearing the holder and expiring at once', () => {
    const released = releaseRecord(held('me', 1000), NOW);
    expect(released.holder).toBeNull();
    expect(leaseVerdict(released, 'other', NOW)).toEqual({ kind: 'acquire', reason: 'free' });
    expect(released.leaseTransitions).toBe(4);
  });

  it('takes client-go defaults and refuses timings that cannot work', () => {
    expect(checkedTimings()).toEqual({ leaseDurationSeconds: 15, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 });
    const bad = [{ leaseDurationSeconds: 0.5 }, { renewDeadlineMs: 15_000 }, { retryPeriodMs: 9_000 }];
    for (const timings of bad) expect(() => checkedTimings(timings)).toThrow(PgdeckError);
  });
});

describe('RequestCounter', () => {
  it('counts by verb and resource, and sums the verbs asked for', () => {
    const counter = new RequestCounter();
    counter.count('patch', 'statefulsets');
    counter.count('patch', 'statefulsets');
    counter.count('get', 'leases');
    counter.count('update', 'leases');
    expect(counter.snapshot()).toEqual({ 'get leases': 1, 'patch statefulsets': 2, 'update leases': 1 });
    expect(counter.total('patch', 'update')).toBe(3);
    expect(counter.total()).toBe(4);
    counter.reset();
    expect(counter.snapshot()).toEqual({});
  });
});
