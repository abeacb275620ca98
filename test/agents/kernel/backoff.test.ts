import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../../src/agents/kernel/backoff.js';

const policy = { baseMs: 100, maxMs: 1000, jitter: 0.2 };

describe('backoffDelay', () => {
  it('doubles from the base per attempt up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(policy, n, () => 0))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(backoffDelay(policy, 0, () => 0)).toBe(100);
    expect(backoffDelay(policy, 10_000, () => 0)).toBe(1000);
  });

  it('takes jitter off below the cap, never above it', () => {
    expect(backoffDelay(policy, 3, () => 1)).toBe(320);
    expect(backoffDelay(policy, 9, () => 1)).toBe(800);
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(policy, 1 + (i % 12), Math.random);
      expect(d).toBeLessThanOrEqual(1000);
      expect(d).toBeGreaterThanOrEqual(80);
    }
  });
});
