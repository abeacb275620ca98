import { describe, expect, it } from 'vitest';
import { lagBehind } from '../../../src/agents/failover/endpoints.js';

describe('lagBehind: a replica against where the primary is now', () => {
  it('is the bytes from its replay position to the primary position, never negative, null when either is unknown', () => {
    expect(lagBehind(5_000_000, 1_000_000)).toBe(4_000_000);
    expect(lagBehind(1_000, 2_000)).toBe(0);
    expect(lagBehind(null, 2_000)).toBeNull();
    expect(lagBehind(2_000, null)).toBeNull();
  });
});
