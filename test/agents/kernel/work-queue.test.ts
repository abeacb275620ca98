import { describe, expect, it } from 'vitest';
import { WorkQueue } from '../../../src/agents/kernel/work-queue.js';

type Step =
  | { readonly op: 'add'; readonly key: string; readonly at: number }
  | { readonly op: 'take'; readonly now: number; readonly expect: string | undefined }
  | { readonly op: 'done'; readonly key: string; readonly requeueAt?: number }
  | { readonly op: 'forget'; readonly key: string }
  | { readonly op: 'next'; readonly expect: number | undefined };

const add = (key: string, at = 0): Step => ({ op: 'add', key, at });
const take = (now: number, expected: string | undefined): Step => ({ op: 'take', now, expect: expected });
const done = (key: string, requeueAt?: number): Step =>
  requeueAt === undefined ? { op: 'done', key } : { op: 'done', key, requeueAt };
const forget = (key: string): Step => ({ op: 'forget', key });
const next = (expected: number | undefined): Step => ({ op: 'next', expect: expected });

const cases: { name: string; concurrency: number; steps: Step[] }[] = [
  {
    name: 'a key added while queued is one item',
    concurrency: 4,
    steps: [add('a'), add('a'), add('a'), take(0, 'a'), take(0, undefined), next(undefined)],
  },
  {
    name: 'a key added while processing is processed again after, once',
    concurrency: 4,
    steps: [
      add('a'),
      take(0, 'a'),
      add('a', 1),
      add('a', 2),
      take(5, undefined),
      done('a'),
      take(5, 'a'),
      done('a'),
      take(9, undefined),
    ],
  },
  {
    name: 'added while processing at a time earlier than its requeue: the earlier wins',
    concurrency: 1,
    steps: [add('a'), take(0, 'a'), add('a', 3), done('a', 50), next(3), take(2, undefined), take(3, 'a')],
  },
  {
    name: 'the earliest time asked for wins, a later one is ignored',
    concurrency: 4,
    steps: [add('a', 100), add('a', 10), add('a', 50), next(10), take(9, undefined), take(10, 'a'), next(undefined)],
  },
  {
    name: 'due keys come out by time, then by arrival',
    concurrency: 4,
    steps: [add('c', 5), add('a', 1), add('b', 1), add('d', 0), take(9, 'd'), take(9, 'a'), take(9, 'b'), take(9, 'c')],
  },
  {
    name: 'at most `concurrency` keys are processed at once',
    concurrency: 2,
    steps: [add('a'), add('b'), add('c'), take(0, 'a'), take(0, 'b'), take(0, undefined), done('a'), take(0, 'c')],
  },
  {
    name: 'done with a requeue time schedules the next run',
    concurrency: 1,
    steps: [add('a'), take(0, 'a'), done('a', 40), next(40), take(39, undefined), take(40, 'a')],
  },
  {
    name: 'a forgotten key is dropped, also when forgotten while processing',
    concurrency: 2,
    steps: [
      add('a'),
      add('b'),
      forget('a'),
      take(0, 'b'),
      forget('b'),
      done('b', 1),
      next(undefined),
      take(5, undefined),
    ],
  },
  {
    name: 'a key forgotten while processing and added again comes back',
    concurrency: 1,
    steps: [add('a'), take(0, 'a'), forget('a'), add('a', 7), done('a'), take(7, 'a')],
  },
];

describe('WorkQueue', () => {
  it.each(cases)('$name', ({ concurrency, steps }) => {
    const q = new WorkQueue(concurrency);
    steps.forEach((step, i) => {
      const where = `step ${i} (${JSON.stringify(step)})`;
      switch (step.op) {
        case 'add':
          q.add(step.key, step.at);
          return;
        case 'take':
          expect(q.take(step.now), where).toBe(step.expect);
          return;
        case 'done':
          q.done(step.key, step.requeueAt);
          return;
        case 'forget':
          q.forget(step.key);
          return;
        case 'next':
          expect(q.nextAt(), where).toBe(step.expect);
          return;
      }
    });
  });

  it('keeps order and de-duplication over many keys (heap against a sorted list)', () => {
    const q = new WorkQueue(1000);
    const wanted = new Map<string, number>();
    let seed = 7;
    const random = (): number => (seed = (seed * 16807) % 2147483647) / 2147483647;
    for (let i = 0; i < 2000; i++) {
      const key = `k${Math.floor(random() * 300)}`;
      const at = Math.floor(random() * 1000);
      q.add(key, at);
      wanted.set(key, Math.min(wanted.get(key) ?? Infinity, at));
    }
    expect(q.pending).toBe(wanted.size);
    const order = [...wanted.entries()].sort((a, b) => a[1] - b[1]).map(([, at]) => at);
    const taken: number[] = [];
    for (let key = q.take(1000); key !== undefined; key = q.take(1000)) taken.push(wanted.get(key)!);
    expect(taken).toEqual(order);
    expect(q.processing).toBe(wanted.size);
  });

  it('refuses a concurrency that is not a positive integer', () => {
    expect(() => new WorkQueue(0)).toThrow(RangeError);
    expect(() => new WorkQueue(1.5)).toThrow(RangeError);
  });
});
