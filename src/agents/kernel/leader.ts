import type { LeadershipInfo } from './snapshot.js';

/**
 * A leader election the kernel's leader gate runs for an agent that declares
 * `leaderElection: 'kube-lease'`. The kernel names no backend: the composition root hands in one
 * (adapters/kube.ts builds it over a coordination.k8s.io Lease).
 */
export interface LeaderElector {
  /**
   * Campaigns until `signal` aborts, calling `onChange` whenever this instance gains or loses the
   * lead or the holder changes. When the signal aborts while leading, releases the lease before the
   * promise resolves, so a successor can take over at once (a rolling update hands over quickly).
   */
  run(signal: AbortSignal, onChange: (leadership: LeadershipInfo) => void): Promise<void>;
  current(): LeadershipInfo;
}

/** Builds the elector for one agent instance (`identity.instance` holds the lease). */
export type LeaderElectorFactory = (agent: string, instance: string) => LeaderElector;
