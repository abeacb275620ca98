export interface BackoffPolicy {
  readonly baseMs: number;
  readonly maxMs: number;
  /** Fraction of the delay taken off at random (0..1), so agents that failed together retry apart. */
  readonly jitter: number;
}

export const defaultBackoff: BackoffPolicy = { baseMs: 200, maxMs: 30_000, jitter: 0.2 };

/** Delay before retry number `attempt` (1-based): exponential, capped, with jitter below the cap. */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: () => number): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  const cap = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
  return Math.round(cap * (1 - policy.jitter * random()));
}
