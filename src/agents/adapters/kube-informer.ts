import { backoffDelay, type BackoffPolicy } from '../kernel/backoff.js';
import { systemClock, type Clock } from '../kernel/clock.js';
import { errorKind, errorMessage, type ErrorKind } from '../kernel/errors.js';
import { silentLogger, type Logger } from '../kernel/logger.js';
import { KubeApiError } from './kube-errors.js';
import { apiVersionOf, objectKey, pathOf, type KubeObject, type KubeResource } from './kube-resources.js';
import type { KubeTransport } from './kube-transport.js';
import { watchToEnd, type WatchOutcome } from './kube-watch.js';

/** What one informer lists and watches; one shared informer exists per distinct spec. */
export interface InformerSpec {
  readonly resource: KubeResource;
  /** Omitted: every namespace (and cluster-scoped resources). */
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
}

export interface InformerOptions {
  /** Restarts after a watch or list error (default 250 ms doubling to 10 s, 20 % jitter). */
  readonly backoff?: BackoffPolicy;
  /** The server ends each watch after this long (default 5-10 min at random, as client-go); then it resumes. */
  readonly watchTimeoutSeconds?: number;
  /** Items per list page (default 500). */
  readonly pageSize?: number;
  readonly clock?: Clock;
  readonly random?: () => number;
  readonly logger?: Logger;
}

/** The informer's health, as data: outages are fields, never exceptions. */
export interface InformerState {
  /** The cache reflects a completed list, and the watch since then is live. */
  readonly synced: boolean;
  readonly lastError: { readonly kind: ErrorKind; readonly message: string; readonly at: number } | null;
  readonly resourceVersion: string;
  readonly lastSyncAt: number | null;
  /** Full lists done (the first one included). */
  readonly lists: number;
  /** Restarts after an error. */
  readonly restarts: number;
  /** 410 Gone answers (a too old resourceVersion): each one is followed by a relist. */
  readonly expired: number;
}

export type InformerChange<T extends KubeObject> =
  | { readonly kind: 'added'; readonly object: T }
  | { readonly kind: 'modified'; readonly object: T; readonly previous: T }
  | { readonly kind: 'deleted'; readonly object: T }
  | { readonly kind: 'synced' }
  | { readonly kind: 'error'; readonly error: { readonly kind: ErrorKind; readonly message: string } };

/** A read-only view of a shared informer's cache. */
export interface KubeInformer<T extends KubeObject = KubeObject> {
  readonly spec: InformerSpec;
  state(): InformerState;
  list(): readonly T[];
  get(name: string, namespace?: string): T | undefined;
  /** Called on every change of the cache and of `synced`; returns the unsubscribe. */
  subscribe(listener: (change: InformerChange<T>) => void): () => void;
}

const defaultInformerBackoff: BackoffPolicy = { baseMs: 250, maxMs: 10_000, jitter: 0.2 };
/** A watch the server closes sooner than this counts as a failure for the backoff, so a flapping server is not hammered. */
const SHORT_WATCH_MS = 1000;

/**
 * List + watch with a local cache, over client-node's Watch. client-node's own informer relists on
 * 410 but stops on any other error; this one restarts with capped, jittered backoff, resumes from the
 * last resourceVersion (relisting only on 410), keeps its cache through outages, and reports `synced`
 * and the last error as data.
 */
export class ResilientInformer<T extends KubeObject = KubeObject> implements KubeInformer<T> {
  private readonly cache = new Map<string, T>();
  private readonly listeners = new Set<(change: InformerChange<T>) => void>();
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly logger: Logger;
  private current: InformerState = {
    synced: false,
    lastError: null,
    resourceVersion: '',
    lastSyncAt: null,
    lists: 0,
    restarts: 0,
    expired: 0,
  };

  constructor(
    private readonly transport: KubeTransport,
    readonly spec: InformerSpec,
    private readonly options: InformerOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.logger = (options.logger ?? silentLogger).child({ informer: spec.resource.plural });
  }

  state(): InformerState {
    return this.current;
  }

  list(): readonly T[] {
    return [...this.cache.values()];
  }

  /** By name; `namespace` defaults to the informer's own. */
  get(name: string, namespace = this.spec.namespace): T | undefined {
    return this.cache.get(namespace === undefined || namespace === '' ? name : `${namespace}/${name}`);
  }

  subscribe(listener: (change: InformerChange<T>) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Lists and watches until `signal` aborts; never rejects. */
  async run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      let wait = 0;
      try {
        if (this.current.resourceVersion === '') await this.relist(signal);
        const started = this.clock.now();
        const outcome = await this.watchOnce(signal);
        if (outcome === 'expired') {
          this.set({ resourceVersion: '', expired: this.current.expired + 1 });
          failures = 0;
        } else if (this.clock.now() - started < SHORT_WATCH_MS) wait = this.delay(++failures);
        else failures = 0;
      } catch (error) {
        if (signal.aborted) break;
        if (error instanceof KubeApiError && error.status === 410) this.set({ resourceVersion: '' });
        this.fail(error);
        wait = this.delay(++failures);
        this.set({ restarts: this.current.restarts + 1 });
      }
      if (wait > 0) await this.clock.sleep(wait, signal);
    }
    this.set({ synced: false });
  }

  private delay(failures: number): number {
    return backoffDelay(this.options.backoff ?? defaultInformerBackoff, failures, this.random);
  }

  private query(): Record<string, string | undefined> {
    return { labelSelector: this.spec.labelSelector, fieldSelector: this.spec.fieldSelector };
  }

  private info(verb: string): { verb: string; resource: string; namespace?: string } {
    const namespace = this.spec.namespace;
    return { verb, resource: this.spec.resource.plural, ...(namespace === undefined ? {} : { namespace }) };
  }

  private async relist(signal: AbortSignal): Promise<void> {
    const items: T[] = [];
    let next: string | undefined;
    let resourceVersion: string | undefined;
    do {
      const page = await this.transport.request<{
        metadata?: { resourceVersion?: string; continue?: string };
        items?: T[];
      }>({
        ...this.info('list'),
        method: 'GET',
        path: pathOf(this.spec),
        query: { ...this.query(), limit: String(this.options.pageSize ?? 500), continue: next },
        signal,
      });
      items.push(...(page.items ?? []));
      resourceVersion = page.metadata?.resourceVersion;
      next = page.metadata?.continue === '' ? undefined : page.metadata?.continue;
    } while (next !== undefined);
    const typed = { apiVersion: apiVersionOf(this.spec.resource), kind: this.spec.resource.kind };
    const fresh = new Map(items.map((item) => [objectKey(item), { ...typed, ...item } as T]));
    for (const [key, old] of this.cache)
      if (!fresh.has(key)) {
        this.cache.delete(key);
        this.emit({ kind: 'deleted', object: old });
      }
    for (const object of fresh.values()) this.upsert(object);
    this.set({ resourceVersion: resourceVersion ?? '', lists: this.current.lists + 1 });
    this.markSynced();
  }

  /** One watch from the current resourceVersion, applying its events to the cache. */
  private watchOnce(signal: AbortSignal): Promise<WatchOutcome> {
    const timeout = this.options.watchTimeoutSeconds ?? Math.round(300 * (1 + this.random()));
    const request = {
      ...this.info('watch'),
      path: pathOf(this.spec),
      query: {
        ...this.query(),
        resourceVersion: this.current.resourceVersion,
        allowWatchBookmarks: 'true',
        timeoutSeconds: String(timeout),
      },
    };
    return watchToEnd(
      this.transport,
      request,
      { onObject: (type, object) => this.apply(type, object as T), onEstablished: () => this.markSynced() },
      signal,
    );
  }

  private apply(type: string, object: T): void {
    if (type === 'ADDED' || type === 'MODIFIED') this.upsert(object);
    else if (type === 'DELETED') {
      const key = objectKey(object);
      if (this.cache.delete(key)) this.emit({ kind: 'deleted', object });
    }
    const version = object.metadata?.resourceVersion;
    if (version !== undefined && version !== '') this.set({ resourceVersion: version });
  }

  private upsert(object: T): void {
    const key = objectKey(object);
    const previous = this.cache.get(key);
    if (previous?.metadata?.resourceVersion === object.metadata?.resourceVersion && previous !== undefined) return;
    this.cache.set(key, object);
    this.emit(previous === undefined ? { kind: 'added', object } : { kind: 'modified', object, previous });
  }

  private markSynced(): void {
    const first = !this.current.synced;
    this.set({ synced: true, lastSyncAt: this.clock.now() });
    if (first) this.emit({ kind: 'synced' });
  }

  private fail(error: unknown): void {
    const lastError = { kind: errorKind(error), message: errorMessage(error), at: this.clock.now() };
    this.logger.warn('informer restarting after an error', { kind: lastError.kind, error: lastError.message });
    this.set({ synced: false, lastError });
    this.emit({ kind: 'error', error: { kind: lastError.kind, message: lastError.message } });
  }

  private set(patch: Partial<InformerState>): void {
    this.current = { ...this.current, ...patch };
  }

  private emit(change: InformerChange<T>): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (error) {
        this.logger.error('an informer listener threw', { error: errorMessage(error) });
      }
    }
  }
}
