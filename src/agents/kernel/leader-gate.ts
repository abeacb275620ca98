import { backoffDelay, type BackoffPolicy } from './backoff.js';
import type { Clock } from './clock.js';
import { errorKind, errorMessage } from './errors.js';
import type { LeaderElector } from './leader.js';
import type { LeadershipInfo } from './snapshot.js';
import type { AgentStore } from './store.js';

/** Whether this replica may act now; the loop and the keyed reconciles ask before every action. */
export interface ActGate {
  leading(): boolean;
  /** Aborts when the agent stops or this replica stops leading: the signal `act` gets. */
  readonly term: AbortSignal;
}

/** The gate of an agent without leader election: it always acts. */
export function ungated(signal: AbortSignal): ActGate {
  return { leading: () => true, term: signal };
}

export interface LeaderGateParams {
  readonly elector: LeaderElector;
  /** The agent's own signal: a term ends with it too. */
  readonly work: AbortSignal;
  readonly store: AgentStore<unknown>;
  readonly clock: Clock;
  readonly backoff: BackoffPolicy;
  readonly random: () => number;
  /** Called when this replica becomes the leader (the kernel then runs a pass and every key at once). */
  readonly onLead: () => void;
}

/**
 * Runs a LeaderElector for an agent declaring `leaderElection`: publishes who leads in the snapshot's
 * `leadership`, and lets act run only while this replica holds an unexpired lease. The election runs
 * on its own signal, which the runtime aborts only after the agent's work has stopped, so the lease is
 * released after the last action and before the process exits.
 */
export class LeaderGate implements ActGate {
  private info: LeadershipInfo = { leading: false, holder: null };
  private termController = new AbortController();
  private termSignal: AbortSignal;

  constructor(private readonly p: LeaderGateParams) {
    this.termController.abort();
    this.termSignal = this.termController.signal;
  }

  /**
   * Leading, and the lease has not run out by this replica's clock (an elector late to notice cannot
   * extend it). The expiry is the elector's current one: a renewal moves it without an `onChange`.
   */
  leading(): boolean {
    if (!this.info.leading) return false;
    const { leading, until } = this.p.elector.current();
    return leading && (until === undefined || this.p.clock.now() < until);
  }

  get term(): AbortSignal {
    return this.termSignal;
  }

  /** Campaigns until `signal` aborts; an elector that fails is restarted after a backoff. */
  async run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      try {
        await this.p.elector.run(signal, (info) => this.change(info));
        failures = 0;
      } catch (error) {
        failures += 1;
        this.p.store.record({
          severity: 'warn',
          kind: 'election-failed',
          message: `leader election failed (${errorKind(error)}): ${errorMessage(error)}`,
          fields: { failures },
        });
      }
      this.change({ leading: false, holder: this.info.leading ? null : this.info.holder });
      if (!signal.aborted) await this.p.clock.sleep(backoffDelay(this.p.backoff, failures + 1, this.p.random), signal);
    }
  }

  private change(info: LeadershipInfo): void {
    const was = this.info.leading;
    this.info = info;
    this.p.store.update({ leadership: info });
    if (info.leading && !was) {
      this.termController = new AbortController();
      this.termSignal = AbortSignal.any([this.p.work, this.termController.signal]);
      this.p.store.record({
        severity: 'info',
        kind: 'leadership-gained',
        message: 'this replica leads: acting',
        fields: { ...(info.until === undefined ? {} : { until: info.until }) },
      });
      this.p.onLead();
    } else if (!info.leading && was) {
      this.termController.abort();
      this.p.store.record({
        severity: 'info',
        kind: 'leadership-lost',
        message: `this replica no longer leads (holder: ${info.holder ?? 'none'}): observing only`,
        fields: { holder: info.holder },
      });
    }
  }
}
