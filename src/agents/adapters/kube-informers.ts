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

/** The references one signal holds, released together by its single abort listener. */
interface Holder {
  readonly held: { readonly key: string; readonly entry: Entry }[];
  readonly onAbort: () => void;
}

/**
 * One shared informer per (resource, namespace, selectors), however many agents read it: each
 * `informer()` call takes a reference held until its signal aborts; the last release stops it. A
 * signal gets one abort listener however many informers it holds (an agent takes a dozen).
 */
export class InformerRegistry {
  private readonly entries = new Map<string, Entry>();
  private readonly holders = new Map<AbortSignal, Holder>();

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
    entry.refs += 1;
    this.holderOf(signal).held.push({ key, entry });
    // the caller names T for the objects of this resource: the cache holds what the server sent
    return entry.informer as unknown as KubeInformer<T>;
  }

  /** How many informers run now, with their reference counts (for tests and the status view). */
  running(): ReadonlyMap<string, number> {
    return new Map([...this.entries].map(([key, entry]) => [key, entry.refs]));
  }

  /** Stops every informer whatever its references (the client is closing); resolves once all ended. */
  async stopAll(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    for (const [signal, holder] of this.holders) signal.removeEventListener('abort', holder.onAbort);
    this.holders.clear();
    for (const entry of all) entry.controller.abort();
    await Promise.all(all.map((entry) => entry.done));
  }

  private holderOf(signal: AbortSignal): Holder {
    const known = this.holders.get(signal);
    if (known !== undefined) return known;
    const holder: Holder = {
      held: [],
      onAbort: () => {
        this.holders.delete(signal);
        for (const { key, entry } of holder.held) this.release(key, entry);
      },
    };
    this.holders.set(signal, holder);
    signal.addEventListener('abort', holder.onAbort, { once: true });
    return holder;
  }

  private release(key: string, entry: Entry): void {
    entry.refs -= 1;
    if (entry.refs > 0 || this.entries.get(key) !== entry) return;
    this.entries.delete(key);
    entry.controller.abort();
  }
}
