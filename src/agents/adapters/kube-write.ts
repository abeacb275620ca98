import { PgdeckError } from '../kernel/errors.js';
import { KubeApiError } from './kube-errors.js';
import {
  apiVersionOf,
  counterResource,
  pathOf,
  type KubeObject,
  type KubeResource,
  type KubeTarget,
} from './kube-resources.js';
import type { KubeTransport } from './kube-transport.js';

/** A write that lost an optimistic-concurrency race is a requeue, returned as data. */
export type WriteResult<T> =
  { readonly kind: 'written'; readonly object: T } | { readonly kind: 'requeue'; readonly reason: string };

/** A create that found the object there already says so instead of failing: creates stay idempotent. */
export type CreateResult<T> =
  { readonly kind: 'created'; readonly object: T } | { readonly kind: 'exists'; readonly reason: string };

/** The scale subresource of a StatefulSet, Deployment or ReplicaSet (autoscaling/v1 Scale). */
export interface KubeScale {
  readonly namespace: string;
  readonly name: string;
  /** Desired replicas (spec.replicas). */
  readonly replicas: number;
  /** Replicas the controller reports (status.replicas). */
  readonly currentReplicas: number;
  /** The pods' label selector, as a string. */
  readonly selector: string;
  readonly resourceVersion: string;
}

export interface WriteOptions {
  readonly signal?: AbortSignal;
}

const APPLY = 'application/apply-patch+yaml';
const MERGE = 'application/merge-patch+json';

interface ScaleObject {
  readonly metadata?: { readonly resourceVersion?: string };
  readonly spec?: { readonly replicas?: number };
  readonly status?: { readonly replicas?: number; readonly selector?: string };
}

/**
 * Reads and writes objects as one field manager (one per agent): server-side apply for intent,
 * a status merge patch guarded by a resourceVersion, and the scale subresource.
 */
export class KubeObjects {
  constructor(
    private readonly transport: KubeTransport,
    readonly fieldManager: string,
  ) {}

  /** The object, or undefined when it does not exist. */
  async get<T extends KubeObject>(
    target: KubeTarget & { readonly name: string },
    options: WriteOptions = {},
  ): Promise<T | undefined> {
    try {
      return await this.call<T>('get', 'GET', target, options);
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 404) return undefined;
      throw error;
    }
  }

  /** The objects of `resource` in `namespace` (every namespace when undefined) matching `labelSelector`. */
  async list<T extends KubeObject>(
    resource: KubeResource,
    namespace: string | undefined,
    labelSelector: string,
    options: WriteOptions = {},
  ): Promise<T[]> {
    const list = await this.call<{ readonly items?: T[] }>(
      'list',
      'GET',
      { resource, ...(namespace === undefined ? {} : { namespace }) },
      options,
      { query: { labelSelector } },
    );
    return list.items ?? [];
  }

  /**
   * Server-side apply of `object` (its apiVersion and kind are filled in from `resource`). Applying the
   * same intent again changes nothing, not even the resourceVersion. `force` (default true, as for a
   * controller) takes over fields another manager set; false answers their conflict with a `conflict` error.
   * `dryRun` asks the server for the object as it would be (admission and defaults included) and stores nothing.
   */
  async apply<T extends KubeObject>(
    resource: KubeResource,
    object: KubeObject,
    options: WriteOptions & { readonly force?: boolean; readonly dryRun?: boolean } = {},
  ): Promise<T> {
    const name = object.metadata?.name;
    if (name === undefined || name === '')
      throw new PgdeckError('invalid-argument', `apply ${resource.plural}: the object has no metadata.name`);
    const namespace = object.metadata?.namespace;
    const body = { ...object, apiVersion: apiVersionOf(resource), kind: resource.kind };
    return this.call<T>(
      'patch',
      'PATCH',
      { resource, name, ...(namespace === undefined ? {} : { namespace }) },
      options,
      {
        body,
        contentType: APPLY,
        query: {
          fieldManager: this.fieldManager,
          force: String(options.force ?? true),
          ...(options.dryRun === true ? { dryRun: 'All' } : {}),
        },
      },
    );
  }

  /**
   * Merges `status` into the status subresource, only if the object is still at `resourceVersion`
   * (what the pass observed). A newer object answers `requeue`: observe again, decide again.
   */
  async patchStatus<T extends KubeObject>(
    resource: KubeResource,
    namespace: string | undefined,
    name: string,
    status: unknown,
    precondition: { readonly resourceVersion: string },
    options: WriteOptions = {},
  ): Promise<WriteResult<T>> {
    const target: KubeTarget = {
      resource,
      name,
      subresource: 'status',
      ...(namespace === undefined ? {} : { namespace }),
    };
    return this.guarded(() =>
      this.call<T>('patch', 'PATCH', target, options, {
        body: { metadata: { resourceVersion: precondition.resourceVersion }, status },
        contentType: MERGE,
        query: { fieldManager: this.fieldManager },
      }),
    );
  }

  /** Deletes every object of `resource` in `namespace` matching `labelSelector` (one request). */
  async deleteCollection(
    resource: KubeResource,
    namespace: string,
    labelSelector: string,
    options: WriteOptions = {},
  ): Promise<void> {
    if (labelSelector === '')
      throw new PgdeckError('invalid-argument', `deletecollection ${resource.plural}: a label selector is required`);
    await this.call('deletecollection', 'DELETE', { resource, namespace }, options, {
      query: { labelSelector, propagationPolicy: 'Background' },
    });
  }

  async getScale(
    resource: KubeResource,
    namespace: string,
    name: string,
    options: WriteOptions = {},
  ): Promise<KubeScale> {
    const scale = await this.call<ScaleObject>(
      'get',
      'GET',
      { resource, namespace, name, subresource: 'scale' },
      options,
    );
    return scaleOf(namespace, name, scale);
  }

  /** Sets spec.replicas through the scale subresource, optionally only at `resourceVersion`. */
  async patchScale(
    resource: KubeResource,
    namespace: string,
    name: string,
    replicas: number,
    options: WriteOptions & { readonly resourceVersion?: string } = {},
  ): Promise<WriteResult<KubeScale>> {
    const metadata =
      options.resourceVersion === undefined ? {} : { metadata: { resourceVersion: options.resourceVersion } };
    return this.guarded(async () => {
      const scale = await this.call<ScaleObject>(
        'patch',
        'PATCH',
        { resource, namespace, name, subresource: 'scale' },
        options,
        {
          body: { ...metadata, spec: { replicas } },
          contentType: MERGE,
          query: { fieldManager: this.fieldManager },
        },
      );
      return scaleOf(namespace, name, scale);
    });
  }

  /**
   * Creates `object` (POST); an object of that name already there is `exists`, not an error, so a
   * redelivered request creates nothing twice. Use it where the name is deterministic and the spec
   * immutable (task pods); apply is for intent that changes.
   */
  async create<T extends KubeObject>(
    resource: KubeResource,
    object: KubeObject,
    options: WriteOptions = {},
  ): Promise<CreateResult<T>> {
    const namespace = object.metadata?.namespace;
    const body = { ...object, apiVersion: apiVersionOf(resource), kind: resource.kind };
    try {
      const created = await this.call<T>(
        'create',
        'POST',
        { resource, ...(namespace === undefined ? {} : { namespace }) },
        options,
        { body, query: { fieldManager: this.fieldManager } },
      );
      return { kind: 'created', object: created };
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 409) return { kind: 'exists', reason: error.message };
      throw error;
    }
  }

  /** Deletes the object (background propagation); false when it was already gone. */
  async delete(
    target: KubeTarget & { readonly name: string },
    options: WriteOptions & { readonly gracePeriodSeconds?: number } = {},
  ): Promise<boolean> {
    const query: Record<string, string> = { propagationPolicy: 'Background' };
    if (options.gracePeriodSeconds !== undefined) query.gracePeriodSeconds = String(options.gracePeriodSeconds);
    try {
      await this.call('delete', 'DELETE', target, options, { query });
      return true;
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 404) return false;
      throw error;
    }
  }

  private async guarded<T>(write: () => Promise<T>): Promise<WriteResult<T>> {
    try {
      return { kind: 'written', object: await write() };
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 409) return { kind: 'requeue', reason: error.message };
      throw error;
    }
  }

  private call<T>(
    verb: string,
    method: 'GET' | 'PATCH' | 'POST' | 'DELETE',
    target: KubeTarget,
    options: WriteOptions,
    payload: { body?: unknown; contentType?: string; query?: Record<string, string> } = {},
  ): Promise<T> {
    return this.transport.request<T>({
      verb,
      resource: counterResource(target),
      ...(target.namespace === undefined ? {} : { namespace: target.namespace }),
      ...(target.name === undefined ? {} : { name: target.name }),
      method,
      path: pathOf(target),
      ...payload,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
  }
}

function scaleOf(namespace: string, name: string, scale: ScaleObject): KubeScale {
  return {
    namespace,
    name,
    replicas: scale.spec?.replicas ?? 0,
    currentReplicas: scale.status?.replicas ?? 0,
    selector: scale.status?.selector ?? '',
    resourceVersion: scale.metadata?.resourceVersion ?? '',
  };
}
