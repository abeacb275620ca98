import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/agents/kernel/clock.js';
import { onAbort } from '../../../src/agents/kernel/on-abort.js';

describe('onAbort', () => {
  it('holds one listener on the signal however many calls wait, and runs those not withdrawn once', () => {
    const controller = new AbortController();
    const ran: number[] = [];
    const withdraws = Array.from({ length: 50 }, (_, i) => onAbort(controller.signal, () => ran.push(i)));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    withdraws.forEach((withdraw, i) => i % 2 === 1 && withdraw());
    controller.abort();
    controller.abort();
    expect(ran).toEqual(Array.from({ length: 25 }, (_, i) => i * 2));
  });

  it('never runs a call for a signal that has already aborted, as addEventListener does not', () => {
    const ran: string[] = [];
    onAbort(AbortSignal.abort(), () => ran.push('late'));
    expect(ran).toEqual([]);
  });

  it('keeps one listener under many sleeps of the system clock on one stop signal', async () => {
    const controller = new AbortController();
    const sleeps = Array.from({ length: 40 }, () => systemClock.sleep(60_000, controller.signal));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    controller.abort();
    await expect(Promise.all(sleeps)).resolves.toHaveLength(40);
  });
});
