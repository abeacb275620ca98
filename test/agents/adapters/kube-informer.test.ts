import { CoreV1Api, type V1PodTemplate } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import type { InformerChange } from '../../../src/agents/adapters/kube-informer.js';
import { KUBE_RESOURCES, type KubeClient, type KubeObject } from '../../../src/agents/adapters/kube.js';
import { systemClock, type Clock } from '../../../src/agents/kernel/clock.js';
import { adminKube, eventually, withKube } from '../../helpers/kube.js';

const cluster = withKube({ nodes: 1 });
const clients: KubeClient[] = [];
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
});
const core = (): CoreV1Api => cluster().kubeConfig.makeApiClient(CoreV1Api);
const fastBackoff = { baseMs: 100, maxMs: 1000, jitter: 0.2 };

/** The system clock, except that while held, the informer's retry sleeps wait for release() (or abort). */
function holdableClock(): Clock & { hold(): void; release(): void; waiting(): number } {
  let held: { promise: Promise<void>; open: () => void } | undefined;
  let waiting = 0;
  return {
    now: () => Date.now(),
    waiting: () => waiting,
    sleep: async (ms, signal) => {
      const gate = held;
      if (gate === undefined) return systemClock.sleep(ms, signal);
      waiting += 1;
      await new Promise<void>((resolve) => {
        signal.addEventListener('abort', () => resolve(), { once: true });
        void gate.promise.then(resolve);
      });
      waiting -= 1;
    },
    hold: () => {
      let open = (): void => undefined;
      const promise = new Promise<void>((resolve) => (open = resolve));
      held = { promise, open };
    },
    release: () => {
      held?.open();
      held = undefined;
    },
  };
}

const names = (objects: readonly KubeObject[]): string[] => objects.map((o) => o.metadata?.name ?? '').sort();
const configMap = (name: string, data: Record<string, string>): { metadata: object; data: Record<string, string> } => ({
  metadata: { name, labels: { app: 'x' } },
  data,
});

describe('the kube adapter informer', () => {
  it('shares one informer per resource, namespace and selector, and stops it with its last reference', async () => {
    const kube = adminKube(cluster());
    clients.push(kube);
    const namespace = await cluster().namespace('shared');
    const spec = { resource: KUBE_RESOURCES.configMaps, namespace, labelSelector: 'app=x' };
    const first = new AbortController();
    const second = new AbortController();
    const a = kube.informers.informer(spec, first.signal);
    const b = kube.informers.informer(spec, second.signal);
    const other = kube.informers.informer({ ...spec, labelSelector: 'app=y' }, second.signal);
    expect(b).toBe(a);
    expect(other).not.toBe(a);
    expect([...kube.informers.running().values()].sort()).toEqual([1, 2]);

    const seen: string[] = [];
    const unsubscribe = a.subscribe((change: InformerChange<KubeObject>) => {
      seen.push(
        change.kind === 'synced' || change.kind === 'error'
          ? change.kind
          : `${change.kind} ${change.object.metadata?.name}`,
      );
    });
    await eventually('synced', async () => a.state().synced);
    await core().createNamespacedConfigMap({ namespace, body: configMap('one', { v: '1' }) });
    await core().replaceNamespacedConfigMap({ namespace, name: 'one', body: configMap('one', { v: '2' }) });
    await core().createNamespacedConfigMap({ namespace, body: { metadata: { name: 'unlabelled' } } });
    await core().deleteNamespacedConfigMap({ namespace, name: 'one' });
    await eventually('the delete seen', async () => seen.includes('deleted one'));
    expect(seen.filter((s) => s !== 'synced')).toEqual(['added one', 'modified one', 'deleted one']);
    unsubscribe();
    expect(kube.requests.snapshot()).toMatchObject({ 'list configmaps': 2, 'watch configmaps': 2 });

    first.abort();
    expect([...kube.informers.running().values()].sort()).toEqual([1, 1]);
    second.abort();
    expect(kube.informers.running().size).toBe(0);
    await eventually('the informer stopped', async () => !a.state().synced);
  });

  it('survives a kube-apiserver killed -9 and restarted: keeps its cache, comes back synced with the changes', async () => {
    const kube = adminKube(cluster(), { informer: { backoff: fastBackoff } });
    clients.push(kube);
    const namespace = await cluster().namespace('restart');
    for (const name of ['a', 'b', 'c'])
      await core().createNamespacedConfigMap({ namespace, body: configMap(name, { v: '1' }) });
    const informer = kube.informers.informer(
      { resource: KUBE_RESOURCES.configMaps, namespace, labelSelector: 'app=x' },
      new AbortController().signal,
    );
    await eventually('3 ConfigMaps cached', async () => informer.state().synced && informer.list().length === 3);
    const keptVersion = informer.get('a', namespace)?.metadata?.resourceVersion;

    const killedAt = Date.now();
    await cluster().plane.stopApiServer('SIGKILL');
    const down = await eventually('the outage seen', async () =>
      informer.state().synced ? undefined : informer.state(),
    );
    expect(informer.list()).toHaveLength(3);

    await cluster().plane.startApiServer();
    const readyAt = Date.now();
    await core().replaceNamespacedConfigMap({ namespace, name: 'b', body: configMap('b', { v: '2' }) });
    await core().deleteNamespacedConfigMap({ namespace, name: 'c' });
    await core().createNamespacedConfigMap({ namespace, body: configMap('d', { v: '1' }) });
    await eventually(
      'the changes since the restart cached',
      async () =>
        informer.state().synced &&
        names(informer.list()).join() === 'a,b,d' &&
        (informer.get('b', namespace) as { data?: { v?: string } } | undefined)?.data?.v === '2',
    );
    const recoveredAt = Date.now();
    const state = informer.state();
    expect(state.lastError?.kind).toBe('unavailable');
    expect(state.restarts).toBeGreaterThanOrEqual(1);
    expect(informer.get('a', namespace)?.metadata?.resourceVersion).toBe(keptVersion);
    console.log(
      `[measure] informer after kube-apiserver kill -9: unsynced after ${down.lastError === null ? '?' : down.lastError.at - killedAt} ms; ` +
        `synced with the changes ${recoveredAt - readyAt} ms after the apiserver was ready ` +
        `(restart took ${readyAt - killedAt} ms; ${state.restarts} restarts, ${state.lists} lists, ${state.expired} expired)`,
    );
  });

  it('relists after 410 Gone (history compacted while it was away), showing the changes made meanwhile', async () => {
    const clock = holdableClock();
    const kube = adminKube(cluster(), { informer: { backoff: fastBackoff, clock } });
    clients.push(kube);
    const namespace = await cluster().namespace('gone');
    const template = (name: string, version: string): V1PodTemplate => ({
      metadata: { name, labels: { version } },
      template: { spec: { containers: [{ name: 'app', image: 'registry.invalid/app:1' }] } },
    });
    await core().createNamespacedPodTemplate({ namespace, body: template('tpl', '0') });
    await core().createNamespacedPodTemplate({ namespace, body: template('old', '0') });
    // PodTemplates bypass the API server's watch cache (see the harness), so a watch meets etcd's compaction
    const informer = kube.informers.informer(
      { resource: KUBE_RESOURCES.podTemplates, namespace },
      new AbortController().signal,
    );
    await eventually('2 templates cached', async () => informer.state().synced && informer.list().length === 2);
    await core().replaceNamespacedPodTemplate({ namespace, name: 'tpl', body: template('tpl', '1') });
    await eventually('version 1 seen', async () => informer.get('tpl', namespace)?.metadata?.labels?.version === '1');
    const before = informer.state();

    clock.hold();
    // writes elsewhere, so the compaction passes the informer's resourceVersion
    await core().createNamespacedConfigMap({ namespace, body: { metadata: { name: 'bump' } } });
    await core().replaceNamespacedConfigMap({
      namespace,
      name: 'bump',
      body: { metadata: { name: 'bump' }, data: { a: '1' } },
    });
    await cluster().plane.stopApiServer('SIGTERM');
    await eventually('the informer waiting to retry', async () => clock.waiting() > 0);
    await cluster().plane.compactEtcd();
    await cluster().plane.startApiServer();
    await core().replaceNamespacedPodTemplate({ namespace, name: 'tpl', body: template('tpl', '2') });
    await core().deleteNamespacedPodTemplate({ namespace, name: 'old' });
    await core().createNamespacedPodTemplate({ namespace, body: template('new', '0') });
    // still held: these changes happened while it was away
    expect(informer.get('old', namespace)).toBeDefined();
    expect(informer.get('tpl', namespace)?.metadata?.labels?.version).toBe('1');

    const releasedAt = Date.now();
    clock.release();
    await eventually(
      'the changes made while away cached',
      async () =>
        informer.state().synced &&
        names(informer.list()).join() === 'new,tpl' &&
        informer.get('tpl', namespace)?.metadata?.labels?.version === '2',
    );
    const after = informer.state();
    expect(after.expired).toBeGreaterThan(before.expired);
    expect(after.lists).toBeGreaterThan(before.lists);
    console.log(
      `[measure] informer relist after 410: synced with the changes ${Date.now() - releasedAt} ms after its retry was let go ` +
        `(${after.expired} expired, ${after.lists} lists)`,
    );
  });
});
