/** A coordination.k8s.io/v1 Lease's spec, in pgdeck's terms (times in ms since epoch). */
export interface LeaseRecord {
  /** null when nobody holds it (released). */
  readonly holder: string | null;
  readonly leaseDurationSeconds: number;
  readonly acquireTime: number | null;
  readonly renewTime: number | null;
  readonly leaseTransitions: number;
}

/** A Lease as read, with the resourceVersion an update must name. */
export interface ObservedLease extends LeaseRecord {
  readonly resourceVersion: string;
}

/** What a candidate should do about the Lease it just read. */
export type LeaseVerdict =
  | { readonly kind: 'create' }
  | { readonly kind: 'renew' }
  | { readonly kind: 'acquire'; readonly reason: 'free' | 'expired' }
  | { readonly kind: 'follow'; readonly holder: string; readonly until: number };

/** When the holder's claim runs out: renewTime + leaseDurationSeconds. */
export function leaseExpiry(lease: LeaseRecord): number {
  return (lease.renewTime ?? lease.acquireTime ?? 0) + lease.leaseDurationSeconds * 1000;
}

/** Pure: acquire a missing, free or expired Lease, renew one's own, follow anyone else's. */
export function leaseVerdict(lease: LeaseRecord | null, identity: string, now: number): LeaseVerdict {
  if (lease === null) return { kind: 'create' };
  if (lease.holder === identity) return { kind: 'renew' };
  if (lease.holder === null || lease.holder === '') return { kind: 'acquire', reason: 'free' };
  const until = leaseExpiry(lease);
  if (until <= now) return { kind: 'acquire', reason: 'expired' };
  return { kind: 'follow', holder: lease.holder, until };
}

/** The record a winner writes: a new holder counts one more transition, a renewal keeps acquireTime. */
export function claimRecord(
  previous: LeaseRecord | null,
  identity: string,
  leaseDurationSeconds: number,
  now: number,
): LeaseRecord {
  const renewing = previous?.holder === identity;
  return {
    holder: identity,
    leaseDurationSeconds,
    acquireTime: renewing ? (previous.acquireTime ?? now) : now,
    renewTime: now,
    leaseTransitions: previous === null ? 0 : renewing ? previous.leaseTransitions : previous.leaseTransitions + 1,
  };
}

/** What a holder writes when it steps down: nobody holds it, and it expires at once. */
export function releaseRecord(previous: LeaseRecord, now: number): LeaseRecord {
  return { ...previous, holder: null, leaseDurationSeconds: 1, renewTime: now - 1000 };
}
