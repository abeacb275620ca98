import { describe, expect, it } from 'vitest';
import type { FailoverState } from '../../src/agents/failover/types.js';
import { mergeCluster, type MergedCluster } from '../../src/ui/agents/failover/merge.js';
import type { SourceView } from '../../src/ui/module.js';
import { sourceView } from '../../src/ui/state/sources.js';
import { NOW, daemonView, failoverState, memberStatus } from '../fixtures/ui/failover-state.js';
import { daemonStore } from './console-harness.js';

let n = 0;
const from = (state: FailoverState, opts: { live?: boolean; at?: number } = {}): SourceView =>
  sourceView(
    `s${n++}`,
    daemonStore(state, { lastError: opts.live === false ? 'connect ECONNREFUSED' : undefined, ...opts }).getSnapshot(),
    true,
    false,
  );

const rows = (m: MergedCluster): string[] =>
  m.members.map((x) => `${x.name}:${x.role}:${x.state}:${x.origin}:${x.daemon}`);

/** After pg1 (primary and leader) died and pg2 was promoted, as the survivors report it. */
const afterFailover = (self: string): FailoverState =>
  daemonView('a', self, {
    primary: 'pg2',
    leader: { name: 'pg2', leaseExpiresAt: null },
    members: [
      memberStatus({ name: 'pg0', state: 'streaming' }),
      memberStatus({ name: 'pg2', role: 'primary', state: 'running', writtenLsn: 0x4000000, timeline: 3 }),
    ],
  });

interface Case {
  readonly name: string;
  readonly sources: () => SourceView[];
  readonly primary: string | null;
  readonly leader: string | null;
  readonly rows: readonly string[];
  readonly also?: (m: MergedCluster) => void;
}

const cases: Case[] = [
  {
    name: 'three live daemons that agree: each row from its own daemon',
    sources: () => ['pg0', 'pg1', 'pg2'].map((self) => from(daemonView('a', self))),
    primary: 'pg1',
    leader: 'pg1',
    rows: ['pg0:replica:rewinding:own:live', 'pg1:primary:running:own:live', 'pg2:replica:streaming:own:live'],
    also: (m) => {
      expect(m.leader?.leaseExpiresAt).toBe(NOW + 4200);
      expect(m.history.map((h) => h.id)).toEqual(['a-f-0001']);
      expect(m.daemons.map((d) => `${d.label}:${d.live}`)).toEqual(['pg0:true', 'pg1:true', 'pg2:true']);
    },
  },
  {
    name: "a member's own report wins over the leader's older copy of it; lag follows the merged primary",
    sources: () => [
      from(
        daemonView('a', 'pg1', {
          members: failoverState.members.map((m) =>
            m.name === 'pg2' ? { ...m, state: 'starting' as const, receivedLsn: 0x2000000, replayedLsn: 0x2000000 } : m,
          ),
        }),
      ),
      from(daemonView('a', 'pg2')),
    ],
    primary: 'pg1',
    leader: 'pg1',
    rows: ['pg0:replica:rewinding:cluster:none', 'pg1:primary:running:own:live', 'pg2:replica:streaming:own:live'],
    also: (m) => expect(m.members.find((x) => x.name === 'pg2')?.lagBytes).toBe(0x60),
  },
  {
    name: 'kill -9 of the primary, after the failover: the dead one is unreachable, never primary or leader',
    sources: () => [
      from(daemonView('a', 'pg1'), { live: false, at: NOW - 30_000 }),
      from(afterFailover('pg0')),
      from(afterFailover('pg2')),
    ],
    primary: 'pg2',
    leader: 'pg2',
    rows: ['pg0:replica:streaming:own:live', 'pg1:unknown:unreachable:stale:away', 'pg2:primary:running:own:live'],
    also: (m) => expect(m.members.find((x) => x.name === 'pg1')).toMatchObject({ lagBytes: null, healthy: false }),
  },
  {
    name: 'kill -9 of the primary, before the election: unreachable at once; the survivors still name it leader, the merge does not',
    sources: () => [
      from(daemonView('a', 'pg1'), { live: false, at: NOW - 3000 }),
      from(daemonView('a', 'pg0')),
      from(daemonView('a', 'pg2')),
    ],
    primary: 'pg1',
    leader: null,
    rows: ['pg0:replica:rewinding:own:live', 'pg1:primary:unreachable:cluster:away', 'pg2:replica:streaming:own:live'],
    also: (m) => expect(m.leaderAway).toBe('pg1'),
  },
  {
    name: "a daemon only the console lost (the cluster has its newer reports): the cluster's view of it stands",
    sources: () => [from(daemonView('a', 'pg1')), from(daemonView('a', 'pg2'), { live: false, at: NOW - 60_000 })],
    primary: 'pg1',
    leader: 'pg1',
    rows: ['pg0:replica:rewinding:cluster:none', 'pg1:primary:running:own:live', 'pg2:replica:streaming:cluster:away'],
  },
  {
    name: "a stale copy's row never outlives a fresher view of the same member",
    sources: () => [
      from(daemonView('a', 'pg1', { members: failoverState.members.map((m) => ({ ...m, lastSeenAt: NOW - 100 })) })),
      from(
        daemonView('a', 'pg2', {
          members: failoverState.members.map((m) =>
            m.name === 'pg2' ? { ...m, state: 'crashed' as const, lastSeenAt: NOW - 60_000 } : m,
          ),
        }),
        { live: false, at: NOW - 60_000 },
      ),
    ],
    primary: 'pg1',
    leader: 'pg1',
    rows: ['pg0:replica:rewinding:cluster:none', 'pg1:primary:running:own:live', 'pg2:replica:streaming:cluster:away'],
  },
  {
    name: 'every daemon away: last known rows, all unreachable, no leader, still one primary',
    sources: () => ['pg0', 'pg1', 'pg2'].map((self) => from(daemonView('a', self), { live: false })),
    primary: 'pg1',
    leader: null,
    rows: [
      'pg0:replica:unreachable:stale:away',
      'pg1:primary:unreachable:stale:away',
      'pg2:replica:unreachable:stale:away',
    ],
    also: (m) => expect(m.live).toBe(false),
  },
  {
    name: 'an old primary still reporting itself primary (being fenced) is not shown as a second primary',
    sources: () => [
      from(
        daemonView('a', 'pg1', {
          members: [
            ...failoverState.members.filter((m) => m.name !== 'pg0'),
            memberStatus({ name: 'pg0', role: 'primary', state: 'fenced' }),
          ],
        }),
      ),
    ],
    primary: 'pg1',
    leader: 'pg1',
    rows: ['pg0:unknown:fenced:cluster:none', 'pg1:primary:running:own:live', 'pg2:replica:streaming:cluster:none'],
  },
];

describe('mergeCluster: one failover cluster out of its daemons', () => {
  it.each(cases)('$name', (c) => {
    const merged = mergeCluster(c.sources());
    expect(merged.primary).toBe(c.primary);
    expect(merged.leader?.name ?? null).toBe(c.leader);
    expect(rows(merged)).toEqual(c.rows);
    expect(merged.members.filter((m) => m.role === 'primary').length).toBeLessThanOrEqual(1);
    expect(merged.members.filter((m) => m.leader).map((m) => m.name)).toEqual(c.leader === null ? [] : [c.leader]);
    c.also?.(merged);
  });

  it('history: each entry once, as the freshest live daemon has it', () => {
    const entry = failoverState.history[0]!;
    const stale = from(daemonView('a', 'pg0', { history: [{ ...entry, id: 'g7', outcome: 'in-progress' }] }), {
      live: false,
    });
    const live = from(
      daemonView('a', 'pg1', {
        history: [
          { ...entry, id: 'g7', outcome: 'completed' },
          { ...entry, id: 'g6', startedAt: 1 },
        ],
      }),
    );
    const merged = mergeCluster([stale, live, from(daemonView('a', 'pg2', { history: [{ ...entry, id: 'g7' }] }))]);
    expect(merged.history.map((h) => `${h.id}:${h.outcome}`)).toEqual(['g7:completed', 'g6:completed']);
  });
});
