import { describe, expect, it } from 'vitest';
import type { BackoffPolicy } from '../../../src/agents/kernel/backoff.js';
import { retryAfter, type ErrorVerdict } from '../../../src/agents/kernel/reconcile.js';

const policy: BackoffPolicy = { baseMs: 10, maxMs: 100, jitter: 0.5 };

describe('retryAfter (the error policy applied)', () => {
  it.each<{ verdict: ErrorVerdict; attempts: number; random: number; expected: number | null }>([
    { verdict: { kind: 'backoff' }, attempts: 1, random: 0, expected: 10 },
    { verdict: { kind: 'backoff' }, attempts: 2, random: 0, expected: 20 },
    { verdict: { kind: 'backoff' }, attempts: 4, random: 0, expected: 80 },
    { verdict: { kind: 'backoff' }, attempts: 5, random: 0, expected: 100 },
    { verdict: { kind: 'backoff' }, attempts: 40, random: 0, expected: 100 },
    { verdict: { kind: 'backoff' }, attempts: 3, random: 1, expected: 20 },
    { verdict: { kind: 'backoff' }, attempts: 9, random: 1, expected: 50 },
    { verdict: { kind: 'requeue', afterMs: 2500 }, attempts: 7, random: 0.3, expected: 2500 },
    { verdict: { kind: 'requeue', afterMs: -5 }, attempts: 1, random: 0, expected: 0 },
    { verdict: { kind: 'give-up', reason: 'spec invalid' }, attempts: 1, random: 0, expected: null },
  ])(
    '$verdict.kind after $attempts attempt(s), random $random -> $expected',
    ({ verdict, attempts, random, expected }) => {
      expect(retryAfter(verdict, attempts, policy, () => random)).toBe(expected);
    },
  );
});
