import { describe, expect, it } from 'vitest';
import { RequestSlots } from '../../../src/agents/adapters/kube-slots.js';

const settled = async (promise: Promise<void>): Promise<'resolved' | 'pending' | unknown> => {
  const pending = Symbol('pending');
  const result = await Promise.race([
    promise.then(
      () => 'resolved',
      (error: unknown) => error,
    ),
    new Promise((resolve) => setImmediate(() => resolve(pending))),
  ]);
  return result === pending ? 'pending' : result;
};

describe('RequestSlots', () => {
  it('lets `size` requests through at once and hands each freed slot to the longest waiting one', async () => {
    const slots = new RequestSlots(2);
    const signal = new AbortController().signal;
    await slots.acquire(signal);
    await slots.acquire(signal);
    const order: string[] = [];
    const third = slots.acquire(signal).then(() => void order.push('third'));
    const fourth = slots.acquire(signal).then(() => void order.push('fourth'));
    expect(await settled(third)).toBe('pending');
    expect(slots.load).toEqual({ active: 2, waiting: 2 });

    slots.release();
    expect(await settled(third)).toBe('resolved');
    expect(await settled(fourth)).toBe('pending');
    expect(slots.load).toEqual({ active: 2, waiting: 1 });
    slots.release();
    await fourth;
    expect(order).toEqual(['third', 'fourth']);
    slots.release();
    slots.release();
    expect(slots.load).toEqual({ active: 0, waiting: 0 });
  });

  it('rejects a waiting request with its signal reason when it is aborted, and leaves the queue without it', async () => {
    const slots = new RequestSlots(1);
    await slots.acquire(new AbortController().signal);
    const controller = new AbortController();
    const waiting = slots.acquire(controller.signal);
    const next = slots.acquire(new AbortController().signal);
    const reason = new Error('deadline');
    controller.abort(reason);
    expect(await settled(waiting)).toBe(reason);
    expect(slots.load).toEqual({ active: 1, waiting: 1 });
    slots.release();
    expect(await settled(next)).toBe('resolved');
    expect(slots.load).toEqual({ active: 1, waiting: 0 });
  });

  it('refuses at once a request whose signal already fired', async () => {
    const slots = new RequestSlots(1);
    const controller = new AbortController();
    controller.abort(new Error('gone'));
    expect(await settled(slots.acquire(controller.signal))).toMatchObject({ message: 'gone' });
    expect(slots.load).toEqual({ active: 0, waiting: 0 });
  });
});
