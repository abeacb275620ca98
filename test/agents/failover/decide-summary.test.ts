import { describe, expect, it } from 'vitest';
import { ranked, summaryRank } from '../../../src/agents/failover/decide/compose.js';
import { step, type Concern, type Step } from '../../../src/agents/failover/decide/step.js';
import { actionsOf, decide } from '../../fixtures/failover-decide.js';
import {
  GENERATION,
  crashedReport,
  failoverConfig,
  observed,
  peers,
  reports,
} from '../../fixtures/failover-observed.js';

const says = (concern: Concern, summary: string): Step => step(concern, { summary });
const flags = (concern: Concern, problem: string): Step => step(concern, { problem });

describe('decideFailover: the summary priority table', () => {
  it('ranks the leader over protecting the local server over converging it', () => {
    expect(summaryRank.leadership).toBe(summaryRank.switchover);
    expect(summaryRank.leadership).toBeGreaterThan(summaryRank['self-protection']);
    expect(summaryRank['self-protection']).toBeGreaterThan(summaryRank['replica-converge']);
    expect(summaryRank['replica-converge']).toBe(summaryRank['primary-converge']);
    expect(summaryRank['primary-converge']).toBeGreaterThan(summaryRank['self-report']);
  });

  const table: { name: string; steps: Step[]; summary: string | null; problem: string | null }[] = [
    {
      name: 'the leader outranks a converging replica, whatever the order',
      steps: [says('leadership', 'promoting pg2'), says('replica-converge', 'pointing pg1 at pg0')],
      summary: 'promoting pg2',
      problem: null,
    },
    {
      name: 'a fence outranks starting a server',
      steps: [says('primary-converge', 'starting pg1'), says('self-protection', 'fencing pg1')],
      summary: 'fencing pg1',
      problem: null,
    },
    {
      name: 'on a tie the later step wins',
      steps: [says('leadership', 'first'), says('switchover', 'second')],
      summary: 'second',
      problem: null,
    },
    {
      name: 'summary and problem are ranked separately',
      steps: [
        step('self-protection', { summary: 'pg0 crashed, waiting', problem: 'postgres of pg0 crashed' }),
        flags('leadership', 'pg0 reports its postgres crashed'),
      ],
      summary: 'pg0 crashed, waiting',
      problem: 'pg0 reports its postgres crashed',
    },
    {
      name: 'steps without a sentence give none',
      steps: [step('self-report'), step('sync-standbys')],
      summary: null,
      problem: null,
    },
  ];

  it.each(table)('$name', ({ steps, summary, problem }) => {
    expect(ranked(steps, 'summary')).toBe(summary);
    expect(ranked(steps, 'problem')).toBe(problem);
  });
});

describe('decideFailover: which sentence a pass ends with', () => {
  it("the leader's failover outranks its own replica's converging, whose actions still run", () => {
    const d = decide(
      observed({
        cluster: { members: reports({ pg0: crashedReport('pg0') }) },
        local: { following: 'pg2' },
      }),
    );

    expect(d.summary).toMatch(/^promoting pg1: pg0 reports its postgres crashed/);
    expect(actionsOf(d, 'follow')).toHaveLength(1);
    expect(actionsOf(d, 'set-primary')).toHaveLength(1);
  });

  it("the leader's verdict outranks the crash its own primary server reports (a lone daemon)", () => {
    const d = decide(
      observed({
        cluster: { leaderName: 'pg0', members: reports({ pg0: crashedReport('pg0') }) },
        local: { running: false, dataDir: 'primary', following: null, status: null },
        peers: peers({}, 'pg0'),
        memory: { servedGeneration: GENERATION },
      }),
      failoverConfig({ node: 'pg0' }),
    );

    expect(d.summary).toMatch(/^promoting pg1: pg0 reports its postgres crashed/);
    expect(d.publish.lastProblem).toBe('pg0 reports its postgres crashed');
    expect(actionsOf(d, 'remember-crash')).toHaveLength(1);
    expect(d.events?.map((e) => e.kind)).toEqual(['primary-crashed', 'failover']);
  });

  it("a leader's problem without a sentence keeps the local server's sentence", () => {
    const d = decide(
      observed({
        cluster: { members: reports({ pg0: null }) },
        local: { running: false, status: null },
        peers: peers({ pg0: { pg: 'ok', api: 'refused', apiEtcdReachable: null, inRecovery: false } }),
      }),
    );

    expect(d.summary).toBe('starting pg1 as a replica of pg0');
    expect(d.publish.lastProblem).toBe('daemon of pg0 is down; its postgres still serves');
  });

  it('says what this daemon is when no step has a sentence', () => {
    const d = decide(observed());

    expect(d.summary).toBe('pg1 is replica; primary pg0; this daemon leads');
    expect(d.publish.lastProblem).toBeNull();
  });

  it('a replica without etcd holds its position', () => {
    const d = decide(observed({ cluster: null, etcd: { reachable: false, leader: false } }));

    expect(d.actions).toEqual([]);
    expect(d.summary).toBe('etcd unreachable: holding position (nothing can be promoted without etcd)');
    expect(d.publish.lastProblem).toBe('etcd unreachable');
  });
});
