import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { FlushQueue } from '../../../src/agents/wire/flush-queue.js';

/** One event-loop turn: an immediate queued now runs after the queue's own (queued earlier). */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A flush that takes `ms` of CPU and counts itself. */
function busy(ms: number, done: number[]): () => void {
  return () => {
    const until = performance.now() + ms;
    while (performance.now() < until);
    done.push(1);
  };
}

describe('FlushQueue', () => {
  it('flushes streams in turn within its budget per event-loop turn', async () => {
    const queue = new FlushQueue(5);
    const done: number[] = [];
    for (let i = 0; i < 10; i++) queue.add(busy(2, done));
    await turn();
    // Three fit in 5 ms when nothing else runs; fewer when the test shares the machine.
    expect(done.length).toBeGreaterThanOrEqual(1);
    expect(done.length).toBeLessThanOrEqual(3);
    expect(queue.size).toBe(10 - done.length);
    for (let i = 0; i < 10 && queue.size > 0; i++) await turn();
    expect(done.length).toBe(10);
    expect(queue.size).toBe(0);
  });

  it('writes nothing in a turn that accepted a connection, then flushes within its whole budget again', async () => {
    const queue = new FlushQueue(50);
    const done: number[] = [];
    for (let i = 0; i < 10; i++) queue.add(busy(1, done));
    queue.accepted();
    await turn();
    expect(done.length).toBe(0);
    expect(queue.size).toBe(10);
    await turn();
    expect(done.length).toBeGreaterThan(1);
    for (let i = 0; i < 10 && queue.size > 0; i++) await turn();
    expect(done.length).toBe(10);
  });
});
