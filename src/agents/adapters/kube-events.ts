import { KubeApiError } from './kube-errors.js';
import { microTime } from './kube-lease.js';
import { KUBE_RESOURCES, pathOf, type KubeObject } from './kube-resources.js';
import type { KubeTransport } from './kube-transport.js';

export interface KubeEventInput {
  readonly type: 'Normal' | 'Warning';
  /** CamelCase, machine-readable: `ScaledUp`, `FailedPromotion`. */
  readonly reason: string;
  /** What the agent did or failed to do: `Scale`, `Promote`. */
  readonly action: string;
  /** One human sentence (never a secret); at most 1 kB is kept. */
  readonly note: string;
}

export interface RecordedEvent {
  readonly name: string;
  readonly namespace: string;
  /** 1 for a new Event, then 2, 3, ... as its series grows. */
  readonly count: number;
}

export interface EventRecorderOptions {
  /** reportingController: `pgdeck.io/autoscaler`. */
  readonly controller: string;
  /** reportingInstance: the agent instance (pod name). */
  readonly instance: string;
  /** A repeat within this window bumps the series; a later one starts a new Event (default 6 min, as client-go). */
  readonly seriesWindowMs?: number;
}

interface Series {
  readonly name: string;
  readonly namespace: string;
  count: number;
  lastAt: number;
}

const MAX_REMEMBERED = 1000;

/**
 * Records events.k8s.io/v1 Events for one agent. The same type, reason, action and note on the same
 * object within the window bumps the Event's series count instead of creating another Event, and
 * `recordTransition` records only when a topic's state changes, so a pass that finds nothing new
 * writes nothing.
 */
export class EventRecorder {
  private readonly series = new Map<string, Series>();
  private readonly states = new Map<string, string>();

  constructor(
    private readonly transport: KubeTransport,
    private readonly options: EventRecorderOptions,
  ) {}

  async record(regarding: KubeObject, event: KubeEventInput, signal?: AbortSignal): Promise<RecordedEvent> {
    const key = [refKey(regarding), event.type, event.reason, event.action, event.note].join('\u0000');
    const now = Date.now();
    const known = this.series.get(key);
    if (known !== undefined && now - known.lastAt < (this.options.seriesWindowMs ?? 360_000)) {
      const bumped = await this.bump(known, now, signal);
      if (bumped) return { name: known.name, namespace: known.namespace, count: known.count };
    }
    const created = await this.create(regarding, event, now, signal);
    remember(this.series, key, created);
    return { name: created.name, namespace: created.namespace, count: 1 };
  }

  /**
   * Records `event` only when `state` differs from the last state recorded for this object and topic
   * (the first call after a start records): Events on transitions only.
   */
  async recordTransition(
    regarding: KubeObject,
    topic: string,
    state: string,
    event: KubeEventInput,
    signal?: AbortSignal,
  ): Promise<RecordedEvent | null> {
    const key = `${refKey(regarding)}\u0000${topic}`;
    if (this.states.get(key) === state) return null;
    const recorded = await this.record(regarding, event, signal);
    remember(this.states, key, state);
    return recorded;
  }

  private async bump(known: Series, now: number, signal: AbortSignal | undefined): Promise<boolean> {
    try {
      await this.transport.request({
        verb: 'patch',
        resource: 'events',
        namespace: known.namespace,
        name: known.name,
        method: 'PATCH',
        path: pathOf({ resource: KUBE_RESOURCES.events, namespace: known.namespace, name: known.name }),
        contentType: 'application/merge-patch+json',
        body: { series: { count: known.count + 1, lastObservedTime: microTime(now) } },
        ...(signal === undefined ? {} : { signal }),
      });
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 404) return false; // expired (1 h TTL): start anew
      throw error;
    }
    known.count += 1;
    known.lastAt = now;
    return true;
  }

  private async create(
    regarding: KubeObject,
    event: KubeEventInput,
    now: number,
    signal: AbortSignal | undefined,
  ): Promise<Series> {
    const meta = regarding.metadata ?? {};
    const namespace = meta.namespace === undefined || meta.namespace === '' ? 'default' : meta.namespace;
    const name = `${meta.name ?? 'object'}.${(BigInt(now) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n)).toString(16)}`;
    await this.transport.request({
      verb: 'create',
      resource: 'events',
      namespace,
      method: 'POST',
      path: pathOf({ resource: KUBE_RESOURCES.events, namespace }),
      body: {
        apiVersion: 'events.k8s.io/v1',
        kind: 'Event',
        metadata: { name, namespace },
        eventTime: microTime(now),
        reportingController: this.options.controller,
        reportingInstance: this.options.instance,
        type: event.type,
        reason: event.reason,
        action: event.action,
        note: event.note.slice(0, 1024),
        regarding: {
          apiVersion: regarding.apiVersion,
          kind: regarding.kind,
          name: meta.name,
          namespace: meta.namespace,
          uid: meta.uid,
        },
      },
      ...(signal === undefined ? {} : { signal }),
    });
    return { name, namespace, count: 1, lastAt: now };
  }
}

function refKey(object: KubeObject): string {
  const meta = object.metadata ?? {};
  return [object.apiVersion, object.kind, meta.namespace, meta.name, meta.uid].join('/');
}

/** Keeps at most MAX_REMEMBERED entries, the oldest dropped first. */
function remember<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > MAX_REMEMBERED) {
    const oldest = map.keys().next().value;
    if (oldest !== undefined) map.delete(oldest);
  }
}
