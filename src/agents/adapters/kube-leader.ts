import { errorMessage, PgdeckError } from '../kernel/errors.js';
import type { LeaderElector, LeaderElectorFactory } from '../kernel/leader.js';
import { silentLogger, type Logger } from '../kernel/logger.js';
import type { LeadershipInfo } from '../kernel/snapshot.js';
import type { InformerRegistry } from './kube-informers.js';
import type { KubeInformer } from './kube-informer.js';
import { KubeLeases, observedLease, type LeaseObject } from './kube-lease.js';
import { claimRecord, leaseExpiry, leaseVerdict, releaseRecord, type ObservedLease } from './kube-lease-policy.js';
import { KUBE_RESOURCES } from './kube-resources.js';
import type { KubeTransport } from './kube-transport.js';

/** client-go's defaults: lease 15 s, renew deadline 10 s, retry every 2 s. */
export interface LeaseTimings {
  /** How long a holder's claim lasts after its last renewal (whole seconds, as the Lease stores it). */
  readonly leaseDurationSeconds: number;
  /** A leader that could not renew for this long steps down (before its lease runs out). */
  readonly renewDeadlineMs: number;
  /** How often the leader renews and a candidate retries. */
  readonly retryPeriodMs: number;
}

export const defaultLeaseTimings: LeaseTimings = {
  leaseDurationSeconds: 15,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
};

export interface KubeLeaseElectorOptions {
  readonly namespace: string;
  readonly name: string;
  /** The holderIdentity: the agent instance. */
  readonly identity: string;
  readonly timings?: Partial<LeaseTimings>;
  /** When given, candidates watch the Lease and try at once when it changes (a released Lease is taken in ms). */
  readonly informers?: InformerRegistry;
  readonly logger?: Logger;
  readonly random?: () => number;
}

const JITTER = 0.2;

export function checkedTimings(timings: Partial<LeaseTimings> = {}): LeaseTimings {
  const t = { ...defaultLeaseTimings, ...timings };
  if (!Number.isInteger(t.leaseDurationSeconds) || t.leaseDurationSeconds < 1)
    throw new PgdeckError(
      'config',
      `leaseDurationSeconds must be a whole number of seconds >= 1, not ${t.leaseDurationSeconds}`,
    );
  if (t.renewDeadlineMs >= t.leaseDurationSeconds * 1000)
    throw new PgdeckError(
      'config',
      `renewDeadlineMs (${t.renewDeadlineMs}) must be below the lease duration (${t.leaseDurationSeconds} s)`,
    );
  if (t.retryPeriodMs * (1 + JITTER) >= t.renewDeadlineMs)
    throw new PgdeckError(
      'config',
      `retryPeriodMs (${t.retryPeriodMs}) must be well below renewDeadlineMs (${t.renewDeadlineMs})`,
    );
  return t;
}

/**
 * The kernel's LeaderElector over a coordination.k8s.io/v1 Lease, as client-go's leaderelection:
 * acquire a free or expired Lease, renew it every retry period, optimistic concurrency on
 * resourceVersion; on abort while leading it releases the Lease so a successor takes over at once.
 */
export class KubeLeaseElector implements LeaderElector {
  private readonly timings: LeaseTimings;
  private readonly leases: KubeLeases;
  private readonly logger: Logger;
  private readonly random: () => number;
  private info: LeadershipInfo = { leading: false, holder: null };
  private known: ObservedLease | undefined;
  private renewedAt = 0;
  private wake: (() => void) | undefined;
  private watched: KubeInformer<LeaseObject> | undefined;
  /** After a lost race the cache may lag: read the Lease from the server once. */
  private mustGet = false;
  /** The last attempt failed: wait a whole (jittered) retry period, even past the holder's expiry. */
  private failed = false;

  constructor(
    transport: KubeTransport,
    private readonly options: KubeLeaseElectorOptions,
  ) {
    this.timings = checkedTimings(options.timings);
    this.leases = new KubeLeases(transport, Math.max(1000, this.timings.retryPeriodMs));
    this.logger = (options.logger ?? silentLogger).child({ lease: `${options.namespace}/${options.name}` });
    this.random = options.random ?? Math.random;
  }

  current(): LeadershipInfo {
    return this.info;
  }

  async run(signal: AbortSignal, onChange: (leadership: LeadershipInfo) => void): Promise<void> {
    const spec = {
      resource: KUBE_RESOURCES.leases,
      namespace: this.options.namespace,
      fieldSelector: `metadata.name=${this.options.name}`,
    };
    this.watched = signal.aborted ? undefined : this.options.informers?.informer(spec, signal);
    const unsubscribe = this.watched?.subscribe((change) => {
      if (change.kind !== 'synced' && change.kind !== 'error' && !this.info.leading) this.wake?.();
    });
    try {
      while (!signal.aborted) {
        const again = await this.attempt(signal, onChange);
        if (!signal.aborted && !again) await this.pause(this.nextWaitMs(), signal);
      }
    } finally {
      unsubscribe?.();
      if (this.info.leading) await this.release();
      this.publish({ leading: false, holder: null }, onChange);
    }
  }

  /** One try to acquire or renew; true when it should be retried at once (it lost a race). */
  private async attempt(signal: AbortSignal, onChange: (l: LeadershipInfo) => void): Promise<boolean> {
    const { namespace, name, identity } = this.options;
    const now = Date.now();
    this.failed = false;
    try {
      const lease = await this.read(signal);
      const verdict = leaseVerdict(lease, identity, now);
      if (verdict.kind === 'follow') {
        this.known = lease ?? undefined;
        this.publish({ leading: false, holder: verdict.holder, until: verdict.until }, onChange);
        return false;
      }
      const record = claimRecord(lease, identity, this.timings.leaseDurationSeconds, now);
      const result =
        lease === null
          ? await this.leases.create(namespace, name, record, signal)
          : await this.leases.update(namespace, name, record, lease.resourceVersion, signal);
      if (result.kind === 'requeue') {
        this.known = undefined;
        this.mustGet = true;
        return !this.info.leading;
      }
      this.known = result.object;
      this.renewedAt = now;
      if (!this.info.leading) this.logger.info('acquired the lease', { transitions: result.object.leaseTransitions });
      this.publish({ leading: true, holder: identity, until: leaseExpiry(result.object) }, onChange);
    } catch (error) {
      if (signal.aborted) return false;
      this.known = undefined;
      this.failed = true;
      this.logger.warn('lease attempt failed', { error: errorMessage(error) });
      if (this.info.leading && now - this.renewedAt > this.timings.renewDeadlineMs) {
        this.logger.warn('could not renew within the renew deadline: stepping down');
        this.publish({ leading: false, holder: null }, onChange);
      }
    }
    return false;
  }

  /**
   * The leader trusts its own last write; a candidate reads the watched Lease from the informer's
   * cache while it is synced (no request at all), else asks the server.
   */
  private async read(signal: AbortSignal): Promise<ObservedLease | null> {
    const { namespace, name } = this.options;
    if (this.info.leading && this.known !== undefined) return this.known;
    if (!this.mustGet && this.watched?.state().synced === true) {
      const cached = this.watched.get(name, namespace);
      return cached === undefined ? null : observedLease(cached);
    }
    this.mustGet = false;
    return this.leases.get(namespace, name, signal);
  }

  /** Clears the holder and lets the Lease expire at once; retries once when a stale resourceVersion loses. */
  private async release(): Promise<void> {
    const { namespace, name, identity } = this.options;
    const deadline = AbortSignal.timeout(Math.max(1000, this.timings.retryPeriodMs));
    try {
      for (let tries = 0; tries < 2; tries++) {
        const lease = this.known ?? (await this.leases.get(namespace, name, deadline));
        if (lease === null || lease.holder !== identity) return;
        const result = await this.leases.update(
          namespace,
          name,
          releaseRecord(lease, Date.now()),
          lease.resourceVersion,
          deadline,
        );
        this.known = undefined;
        if (result.kind === 'written') {
          this.logger.info('released the lease');
          return;
        }
      }
    } catch (error) {
      this.logger.warn('could not release the lease: it expires on its own', { error: errorMessage(error) });
    }
  }

  /** The leader renews every retry period; a candidate retries with jitter, and wakes at the holder's expiry. */
  private nextWaitMs(): number {
    const retry = this.timings.retryPeriodMs;
    if (this.info.leading) return retry;
    const jittered = retry * (1 + JITTER * this.random());
    const until = this.info.until;
    return until === undefined || this.failed ? jittered : Math.max(0, Math.min(jittered, until - Date.now() + 5));
  }

  private pause(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      this.wake = done;
    });
  }

  private publish(next: LeadershipInfo, onChange: (l: LeadershipInfo) => void): void {
    // a renewal moves `until`: the kernel's gate stops acting at the last `until` it was told
    const changed =
      next.leading !== this.info.leading || next.holder !== this.info.holder || next.until !== this.info.until;
    this.info = next;
    if (changed) onChange(next);
  }
}

export interface KubeLeaseElectorFactoryOptions {
  readonly namespace: string;
  readonly timings?: Partial<LeaseTimings>;
  /** The Lease of an agent (default `pgdeck-<agent>`). */
  readonly leaseName?: (agent: string) => string;
  readonly informers?: InformerRegistry;
  readonly logger?: Logger;
}

/** The factory the composition root hands the kernel: one Lease per agent, held by its instance. */
export function kubeLeaseElectorFactory(
  transport: KubeTransport,
  options: KubeLeaseElectorFactoryOptions,
): LeaderElectorFactory {
  checkedTimings(options.timings);
  return (agent, instance) =>
    new KubeLeaseElector(transport, {
      namespace: options.namespace,
      name: options.leaseName?.(agent) ?? `pgdeck-${agent}`,
      identity: instance,
      ...(options.timings === undefined ? {} : { timings: options.timings }),
      ...(options.informers === undefined ? {} : { informers: options.informers }),
      ...(options.logger === undefined ? {} : { logger: options.logger.child({ agent }) }),
    });
}
