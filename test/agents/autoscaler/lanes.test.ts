import { describe, expect, it } from 'vitest';
import { AckBatcher } from '../../../src/agents/autoscaler/ack-batcher.js';
import { KeyedLanes } from '../../../src/agents/autoscaler/lanes.js';

/** A task that records its start and end and finishes when its gate is opened. */
function gated(log: string[], name: string): { task: () => Promise<void>; open: () => void; started: Promise<void> } {
  let open = (): void => undefined;
  let markStarted = (): void => undefined;
  const started = new Promise<void>((resolve) => {
    markStarted = resolve;
  });
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const task = async (): Promise<void> => {
    log.push(`start ${name}`);
    markStarted();
    await gate;
    log.push(`end ${name}`);
  };
  return { task, open, started };
}

describe('KeyedLanes', () => {
  it('runs the tasks of one key in order and other keys meanwhile', async () => {
    const lanes = new KeyedLanes();
    const log: string[] = [];
    const a1 = gated(log, 'a1');
    const a2 = gated(log, 'a2');
    const b1 = gated(log, 'b1');
    const runs = [lanes.run('a', a1.task), lanes.run('a', a2.task), lanes.run('b', b1.task)];
    await Promise.all([a1.started, b1.started]);
    expect(log).toEqual(['start a1', 'start b1']);
    expect(lanes.active).toBe(2);
    b1.open();
    await runs[2];
    expect(log).toEqual(['start a1', 'start b1', 'end b1']);
    a2.open();
    a1.open();
    await Promise.all(runs);
    expect(log).toEqual(['start a1', 'start b1', 'end b1', 'end a1', 'start a2', 'end a2']);
    await new Promise((resolve) => setImmediate(resolve));
    expect(lanes.active).toBe(0);
  });

  it('a failing task fails its own run and the lane goes on', async () => {
    const lanes = new KeyedLanes();
    const first = lanes.run('k', () => Promise.reject(new Error('boom')));
    let ran = false;
    const second = lanes.run('k', () => {
      ran = true;
      return Promise.resolve();
    });
    await expect(first).rejects.toThrow('boom');
    await second;
    expect(ran).toBe(true);
  });
});

describe('AckBatcher', () => {
  it('sends the acknowledgements of one turn together, and the next turn separately', async () => {
    const flushed: string[][] = [];
    const batcher = new AckBatcher((ids) => {
      flushed.push([...ids]);
      return Promise.resolve();
    });
    await Promise.all(['1-0', '2-0', '3-0'].map((id) => batcher.ack(id)));
    await batcher.ack('4-0');
    expect(flushed).toEqual([['1-0', '2-0', '3-0'], ['4-0']]);
  });

  it('a failed send fails every acknowledgement of its batch', async () => {
    const batcher = new AckBatcher(() => Promise.reject(new Error('redis down')));
    const results = await Promise.allSettled([batcher.ack('1-0'), batcher.ack('2-0')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });
});
