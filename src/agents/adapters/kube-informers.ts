import { PgdeckError } from '../kernel/errors.js';
import { ResilientInformer, type InformerOptions, type InformerSpec, type KubeInformer } from './kube-informer.js';
import type { KubeObject } from './kube-resources.js';
import type { KubeTransport } from './kube-transport.js';

interface Entry {
  readonly informer: ResilientInformer;
  readonly controller: AbortController;
  readonly done: Promise<void>;
  refs: number;
}

/** The identity of an informer: resource, namespace and selectors. */
export function informerKey(spec: InformerSpec): string {
  const r = spec.resource;
  return [r.group, r.version, r.plural, spec.namespace ?? '*', spec.labelSelector ?? '', spec.fieldSelector ?? ''].join(
    '|',
  );
}

/**
 * One shared informer per (resource, namespace, selectors), however many agents read it: each
 * `informer()` call takes a reference held until its signal aborts; the last release stops it.
 */
export class InformerRegistry {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly transport: KubeTransport,
    private readonly options: InformerOptions = {},
  ) {}

  /**
   * The shared informer for `spec`, started on first use and held until `signal` aborts. Take it once
   * per consumer (when an agent starts), not on every pass: each call holds one more reference.
   */
  informer<T extends KubeObject = KubeObject>(spec: InformerSpec, signal: AbortSignal): KubeInformer<T> {
    if (signal.aborted)
      throw new PgdeckError('aborted', `informer for ${spec.resource.plural}: the signal has aborted`);
    const key = informerKey(spec);
    let entry = this.entries.get(key);
    if (entry === undefined) {
      const informer = new ResilientInformer(this.transport, spec, this.options);
      const controller = new AbortController();
      entry = { informer, controller, done: informer.run(controller.signal), refs: 0 };
      this.entries.set(key, entry);
    }
    const held = entry;
    held.refs += 1;
    signal.addEventListener('abort', () => this.release(key, held), { once: true });
    // the caller names T for the objects of this resource: the cache holds what the server sent
    return held.informer as unknown as KubeInformer<T>;
  }

  /** How many informers run now, with their reference counts (for tests and the status view). */
  running(): ReadonlyMap<string, number> {
    return new Map([...this.entries].map(([key, entry]) => [key, entry.refs]));
  }

  /** Stops every informer whatever its references (the client is closing); resolves once all ended. */
  async stopAll(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    for (const entry of all) entry.controller.abort();
    await Promise.all(all.map((entry) => entry.done));
  }

  private release(key: string, entry: Entry): void {
    entry.refs -= 1;
    if (entry.refs > 0 || this.entries.get(key) !== entry) return;
    this.entries.delete(key);
    entry.controller.abort();
  }
}
