import { describe, expect, it } from 'vitest';
import { autoscalerConfigSchema } from '../../../src/agents/autoscaler/config.js';
import { decideEntry } from '../../../src/agents/autoscaler/decide/entry.js';
import { decideAutoscaler } from '../../../src/agents/autoscaler/decide/pass.js';
import { parseEntry } from '../../../src/agents/autoscaler/events.js';
import { formatLastScale, parseLastScale } from '../../../src/agents/autoscaler/last-scale.js';
import type { AutoscalerObserved, EntryView, TaskPod } from '../../../src/agents/autoscaler/types.js';

const config = autoscalerConfigSchema.parse({
  consumer: 'c1',
  agentImage: 'img',
  maxPodsInFlight: 5,
  podCountLimit: 5,
  retentionSeconds: 10,
  targets: { workers: { kind: 'StatefulSet', name: 'w', min: 1, max: 4, cooldownSeconds: 30 } },
});
const targets = Object.keys(config.targets);
const pod = (taskId: string, index: number, over: Partial<TaskPod> = {}): TaskPod => ({
  name: `otto-worker-${taskId}-${index}`,
  taskId,
  index,
  phase: 'Running',
  deleting: false,
  finishedAt: null,
  ...over,
});
const view = (pods: TaskPod[] = [], over: Partial<EntryView> = {}): EntryView => ({
  pods,
  inFlight: pods.filter((p) => p.finishedAt === null).length,
  target: null,
  lastScale: null,
  ...over,
});
const entry = (fields: Record<string, string>) => parseEntry('5-0', fields, config.podCountLimit, targets);
const up = (n: number, task = 't1', extra: Record<string, string> = {}) =>
  entry({ type: 'scale_up', pod_count: String(n), task_id: task, ...extra });
const down = (n: number, task = 't1', extra: Record<string, string> = {}) =>
  entry({ type: 'scale_down', pod_count: String(n), task_id: task, ...extra });
const sts = {
  name: 'workers',
  kind: 'StatefulSet' as const,
  replicas: 2,
  currentReplicas: 2,
  min: 1,
  max: 4,
  resourceVersion: '1',
};

describe('decideEntry', () => {
  it.each([
    [
      'malformed -> dead letter',
      entry({ type: 'scale_up' }),
      view(),
      [{ kind: 'dead-letter', reason: 'pod_count is missing; task_id is missing' }],
    ],
    [
      'scale_up creates the missing pods only',
      up(3),
      view([pod('t1', 1)]),
      [{ kind: 'create-pods', taskId: 't1', indexes: [0, 2] }, { kind: 'ack' }],
    ],
    ['a redelivered scale_up creates nothing', up(2), view([pod('t1', 0), pod('t1', 1)]), [{ kind: 'ack' }]],
    [
      'scale_down removes idle pods first, then the newest',
      down(2),
      view([pod('t1', 0), pod('t1', 1), pod('t1', 2, { phase: 'Pending' })]),
      [{ kind: 'delete-pods', names: ['otto-worker-t1-2', 'otto-worker-t1-1'] }, { kind: 'ack' }],
    ],
    ['scale_down of a task without pods only acks', down(1, 'other'), view([pod('t1', 0)]), [{ kind: 'ack' }]],
    [
      'scale_up of a target is bounded by max',
      up(5, 't', { target: 'workers' }),
      view([], { target: sts }),
      [{ kind: 'scale-target', target: 'workers', from: 2, replicas: 4 }, { kind: 'ack' }],
    ],
    [
      'scale_down of a target is bounded by min',
      down(5, 't', { target: 'workers' }),
      view([], { target: sts }),
      [{ kind: 'scale-target', target: 'workers', from: 2, replicas: 1 }, { kind: 'ack' }],
    ],
    [
      'scale_down within the cooldown is ignored',
      down(1, 't', { target: 'workers' }),
      view([], { target: sts, lastScale: { entryId: '4-0', at: 990_000, replicas: 2 } }),
      [{ kind: 'ack' }],
    ],
    [
      'scale_down after the cooldown applies',
      down(1, 't', { target: 'workers' }),
      view([], { target: sts, lastScale: { entryId: '4-0', at: 900_000, replicas: 2 } }),
      [{ kind: 'scale-target', target: 'workers', from: 2, replicas: 1 }, { kind: 'ack' }],
    ],
    [
      'scale_up ignores the cooldown',
      up(1, 't', { target: 'workers' }),
      view([], { target: sts, lastScale: { entryId: '4-0', at: 999_000, replicas: 2 } }),
      [{ kind: 'scale-target', target: 'workers', from: 2, replicas: 3 }, { kind: 'ack' }],
    ],
    [
      'a redelivered scale event whose scale was made sets the same count again (never adds twice)',
      up(1, 't', { target: 'workers' }),
      view([], { target: sts, lastScale: { entryId: '5-0', at: 999_000, replicas: 3 } }),
      [{ kind: 'scale-target', target: 'workers', from: 2, replicas: 3 }, { kind: 'ack' }],
    ],
    [
      'a redelivered scale event already in effect only acks',
      up(1, 't', { target: 'workers' }),
      view([], { target: sts, lastScale: { entryId: '5-0', at: 999_000, replicas: 2 } }),
      [{ kind: 'ack' }],
    ],
  ])('%s', (_, parsed, v, actions) => {
    const plan = decideEntry(parsed, v, config, 1_000_000);
    expect(plan.kind === 'do' ? plan.actions : plan).toEqual(actions);
  });

  it('waits (backpressure) instead of failing when the pods would pass the in-flight limit', () => {
    const plan = decideEntry(up(3, 't2'), view([pod('t1', 0), pod('t1', 1), pod('t1', 2)]), config, 0);
    expect(plan).toEqual({ kind: 'wait', reason: '3 pods in flight, 3 more for task t2 would pass the limit of 5' });
    const after = decideEntry(up(3, 't2'), view([pod('t1', 0, { phase: 'Succeeded', finishedAt: 1 })]), config, 0);
    expect(after.kind).toBe('do');
  });

  it('an unknown target is dead-lettered at parse time', () => {
    expect(up(1, 't', { target: 'nope' })).toEqual({
      kind: 'malformed',
      id: '5-0',
      reason: 'target "nope" is not configured (known: workers)',
    });
  });
});

describe('the last-scale annotation', () => {
  it('round-trips, and reads anything malformed as none', () => {
    const scale = { entryId: '7-1', at: Date.UTC(2026, 11, 1, 12), replicas: 3 };
    expect(formatLastScale(scale)).toBe('{"entryId":"7-1","at":"2026-12-01T12:00:00.000Z","replicas":3}');
    expect(parseLastScale(formatLastScale(scale))).toEqual(scale);
    for (const bad of [undefined, '', 'nope', '[]', '{"entryId":"1-0","at":"later","replicas":1}'])
      expect(parseLastScale(bad)).toBeNull();
    expect(parseLastScale('{"entryId":"1-0","at":"2026-12-01T12:00:00Z","replicas":1.5}')).toBeNull();
  });
});

describe('decideAutoscaler', () => {
  const observed = (pods: TaskPod[], reported: string[] = []): AutoscalerObserved => ({
    stream: {
      reachable: true,
      error: null,
      length: 3,
      lag: 0,
      pending: 1,
      consumers: [],
      deadLetters: 2,
      lastDeadLetters: [],
    },
    podsSynced: true,
    pods,
    targets: [],
    targetErrors: [],
    reported,
  });

  it('keeps the pods of a task until all finished and the retention is over, and records the result once', () => {
    const running = observed([pod('a', 0, { phase: 'Succeeded', finishedAt: 1000 }), pod('a', 1)]);
    expect(decideAutoscaler(running, 100_000, config).actions).toEqual([]);
    const done = observed([
      pod('a', 0, { phase: 'Succeeded', finishedAt: 1000 }),
      pod('a', 1, { phase: 'Failed', finishedAt: 5000 }),
    ]);
    const early = decideAutoscaler(done, 10_000, config);
    expect(early.actions).toEqual([]);
    expect(early.requeueAfterMs).toBe(5000);
    expect(early.events?.map((e) => e.message)).toEqual(['task a finished: 1 succeeded, 1 failed']);
    const late = decideAutoscaler({ ...done, reported: ['a'] }, 15_000, config);
    expect(late.actions).toEqual([{ kind: 'delete-finished', names: ['otto-worker-a-0', 'otto-worker-a-1'] }]);
    expect(late.events).toEqual([]);
  });

  it('publishes workers by phase per task and the stream figures', () => {
    const d = decideAutoscaler(observed([pod('b', 0), pod('b', 1, { phase: 'Pending' }), pod('a', 0)]), 0, config);
    expect(d.publish.tasks.map((t) => [t.taskId, t.phases.Running, t.phases.Pending])).toEqual([
      ['a', 1, 0],
      ['b', 1, 1],
    ]);
    expect(d.publish).toMatchObject({ inFlight: 3, maxPodsInFlight: 5, pending: 1, deadLetters: 2, lag: 0 });
    expect(d.summary).toBe('lag 0, 1 pending; 2 task(s), 3/5 pods in flight; 2 dead-lettered');
  });
});
