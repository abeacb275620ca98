import { KubeApiError } from './kube-errors.js';
import type { LeaseRecord, ObservedLease } from './kube-lease-policy.js';
import { KUBE_RESOURCES, pathOf, type KubeObject } from './kube-resources.js';
import type { KubeTransport } from './kube-transport.js';
import type { WriteResult } from './kube-write.js';

export interface LeaseObject extends KubeObject {
  readonly spec?: {
    readonly holderIdentity?: string | null;
    readonly leaseDurationSeconds?: number;
    readonly acquireTime?: string | null;
    readonly renewTime?: string | null;
    readonly leaseTransitions?: number;
  };
}

/** A MicroTime: RFC 3339 with exactly six fractional digits (the API server refuses milliseconds). */
export function microTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 23)}000Z`;
}

const parseTime = (time: string | null | undefined): number | null =>
  time === undefined || time === null ? null : Date.parse(time);

/** A Lease object (from a GET, a write or an informer's cache) in pgdeck's terms. */
export function observedLease(lease: LeaseObject): ObservedLease {
  const spec = lease.spec ?? {};
  return {
    holder: spec.holderIdentity === undefined || spec.holderIdentity === '' ? null : spec.holderIdentity,
    leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
    acquireTime: parseTime(spec.acquireTime),
    renewTime: parseTime(spec.renewTime),
    leaseTransitions: spec.leaseTransitions ?? 0,
    resourceVersion: lease.metadata?.resourceVersion ?? '',
  };
}

function specOf(record: LeaseRecord): Record<string, unknown> {
  return {
    holderIdentity: record.holder,
    leaseDurationSeconds: record.leaseDurationSeconds,
    acquireTime: record.acquireTime === null ? null : microTime(record.acquireTime),
    renewTime: record.renewTime === null ? null : microTime(record.renewTime),
    leaseTransitions: record.leaseTransitions,
  };
}

/** Reads and writes coordination.k8s.io/v1 Leases with optimistic concurrency on resourceVersion. */
export class KubeLeases {
  constructor(
    private readonly transport: KubeTransport,
    private readonly timeoutMs?: number,
  ) {}

  /** The Lease, or null when it does not exist. */
  async get(namespace: string, name: string, signal?: AbortSignal): Promise<ObservedLease | null> {
    try {
      return observedLease(await this.send('get', 'GET', namespace, name, undefined, signal));
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 404) return null;
      throw error;
    }
  }

  /** Creates it; one that already exists (another candidate won) is a requeue. */
  create(
    namespace: string,
    name: string,
    record: LeaseRecord,
    signal?: AbortSignal,
  ): Promise<WriteResult<ObservedLease>> {
    const body = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name, namespace },
      spec: specOf(record),
    };
    return this.guarded(() => this.send('create', 'POST', namespace, undefined, body, signal));
  }

  /** Replaces its spec only if it is still at `resourceVersion`; a newer one is a requeue. */
  update(
    namespace: string,
    name: string,
    record: LeaseRecord,
    resourceVersion: string,
    signal?: AbortSignal,
  ): Promise<WriteResult<ObservedLease>> {
    const body = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name, namespace, resourceVersion },
      spec: specOf(record),
    };
    return this.guarded(() => this.send('update', 'PUT', namespace, name, body, signal));
  }

  private async guarded(write: () => Promise<LeaseObject>): Promise<WriteResult<ObservedLease>> {
    try {
      return { kind: 'written', object: observedLease(await write()) };
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 409) return { kind: 'requeue', reason: error.message };
      throw error;
    }
  }

  private send(
    verb: string,
    method: 'GET' | 'POST' | 'PUT',
    namespace: string,
    name: string | undefined,
    body: unknown,
    signal: AbortSignal | undefined,
  ): Promise<LeaseObject> {
    return this.transport.request<LeaseObject>({
      verb,
      resource: 'leases',
      namespace,
      ...(name === undefined ? {} : { name }),
      method,
      path: pathOf({ resource: KUBE_RESOURCES.leases, namespace, ...(name === undefined ? {} : { name }) }),
      ...(body === undefined ? {} : { body }),
      ...(signal === undefined ? {} : { signal }),
      ...(this.timeoutMs === undefined ? {} : { timeoutMs: this.timeoutMs }),
    });
  }
}
