import { ApiextensionsV1Api, CustomObjectsApi, EventsV1Api } from '@kubernetes/client-node';
import { Agent as HttpsAgent } from 'node:https';
import { afterAll, describe, expect, it } from 'vitest';
import {
  connectKube,
  KUBE_RESOURCES,
  type KubeClient,
  type KubeResource,
  type KubeScale,
  type WriteResult,
} from '../../../src/agents/adapters/kube.js';
import { MAX_CONNECTIONS } from '../../../src/agents/adapters/kube-transport.js';
import { PgdeckError } from '../../../src/agents/kernel/errors.js';
import { adminKube, eventually, withKube } from '../../helpers/kube.js';

const cluster = withKube({ nodes: 1 });
const clients: KubeClient[] = [];
const admin = (): KubeClient => {
  const client = adminKube(cluster());
  clients.push(client);
  return client;
};
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
});

const GROUP = 'test.pgdeck.io';
const widgets: KubeResource = { group: GROUP, version: 'v1', plural: 'widgets', kind: 'Widget', namespaced: true };

async function widgetCrd(): Promise<void> {
  const api = cluster().kubeConfig.makeApiClient(ApiextensionsV1Api);
  const name = `widgets.${GROUP}`;
  await api.createCustomResourceDefinition({
    body: {
      metadata: { name },
      spec: {
        group: GROUP,
        scope: 'Namespaced',
        names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            subresources: { status: {} },
            schema: {
              openAPIV3Schema: {
                type: 'object',
                properties: {
                  spec: { type: 'object', properties: { size: { type: 'integer' } } },
                  status: { type: 'object', properties: { phase: { type: 'string' } } },
                },
              },
            },
          },
        ],
      },
    },
  });
  await eventually('the Widget CRD Established', async () =>
    (await api.readCustomResourceDefinition({ name })).status?.conditions?.some(
      (c) => c.type === 'Established' && c.status === 'True',
    ),
  );
}

const statefulSet = (namespace: string, name: string, replicas: number): Record<string, unknown> => ({
  metadata: { name, namespace, labels: { app: name } },
  spec: {
    replicas,
    serviceName: name,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: { containers: [{ name: 'db', image: 'registry.invalid/db:1' }] },
    },
  },
});

const failure = async (call: Promise<unknown>): Promise<PgdeckError> => {
  const error: unknown = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof PgdeckError)) throw new Error(`expected a PgdeckError, got ${String(error)}`);
  return error;
};

describe('kube adapter writes', () => {
  it('applies server-side as one field manager, and a second identical apply changes no spec', async () => {
    const kube = admin();
    const namespace = await cluster().namespace('apply');
    const objects = kube.objects('pgdeck-autoscaler');
    const intent = statefulSet(namespace, 'db', 1);
    const first = await objects.apply(KUBE_RESOURCES.statefulSets, intent);
    const second = await objects.apply(KUBE_RESOURCES.statefulSets, intent);
    expect(first.metadata?.resourceVersion).toBeDefined();
    // The StatefulSet controller may write status in between (a new resourceVersion); the spec's generation stays.
    expect(first.metadata?.generation).toBe(1);
    expect(second.metadata?.generation).toBe(1);
    const managers = (second.metadata as { managedFields?: { manager: string; operation: string }[] }).managedFields;
    expect(managers?.filter((m) => m.operation === 'Apply').map((m) => m.manager)).toEqual(['pgdeck-autoscaler']);
    expect(kube.requests.snapshot()['patch statefulsets']).toBe(2);

    const changed = await objects.apply(KUBE_RESOURCES.statefulSets, {
      ...intent,
      metadata: { name: 'db', namespace, labels: { app: 'db', tier: 'x' } },
    });
    expect(changed.metadata?.resourceVersion).not.toBe(first.metadata?.resourceVersion);
  });

  it('patches status only at the observed resourceVersion: a stale one is a requeue, not an error', async () => {
    await widgetCrd();
    const kube = admin();
    const namespace = await cluster().namespace('status');
    const objects = kube.objects('pgdeck-operator');
    const created = await eventually('the Widget endpoint serving', () =>
      objects.apply(widgets, { metadata: { name: 'w', namespace }, spec: { size: 1 } }),
    );
    const observed = created.metadata?.resourceVersion ?? '';

    const ready = await objects.patchStatus(widgets, namespace, 'w', { phase: 'Ready' }, { resourceVersion: observed });
    expect(ready.kind).toBe('written');
    const written = ready.kind === 'written' ? ready.object : undefined;
    expect(written?.status).toEqual({ phase: 'Ready' });
    expect(written?.metadata?.resourceVersion).not.toBe(observed);

    const stale = await objects.patchStatus(
      widgets,
      namespace,
      'w',
      { phase: 'Failed' },
      { resourceVersion: observed },
    );
    expect(stale.kind).toBe('requeue');
    expect(stale.kind === 'requeue' ? stale.reason : '').toContain('the object has been modified');
    const now = (await cluster()
      .kubeConfig.makeApiClient(CustomObjectsApi)
      .getNamespacedCustomObject({ group: GROUP, version: 'v1', namespace, plural: 'widgets', name: 'w' })) as {
      status?: unknown;
    };
    expect(now.status).toEqual({ phase: 'Ready' });
    expect(kube.requests.snapshot()['patch widgets/status']).toBe(2);
  });

  it('gets and patches the scale subresource of a StatefulSet and a Deployment', async () => {
    const kube = admin();
    const namespace = await cluster().namespace('scale');
    const objects = kube.objects('pgdeck-autoscaler');
    await objects.apply(KUBE_RESOURCES.statefulSets, statefulSet(namespace, 'db', 1));
    // The StatefulSet controller writes its status meanwhile, so a fresh read can go stale before the
    // patch: as a controller does, read again and retry on a requeue.
    const scaleTo3 = async (attempt: number): Promise<{ before: KubeScale; scaled: WriteResult<KubeScale> }> => {
      const before = await objects.getScale(KUBE_RESOURCES.statefulSets, namespace, 'db');
      expect(before).toMatchObject({ namespace, name: 'db', replicas: 1 });
      const scaled = await objects.patchScale(KUBE_RESOURCES.statefulSets, namespace, 'db', 3, {
        resourceVersion: before.resourceVersion,
      });
      return scaled.kind === 'requeue' && attempt < 10 ? scaleTo3(attempt + 1) : { before, scaled };
    };
    let patches = 0;
    const { before, scaled } = await scaleTo3(1).finally(() => {
      patches = kube.requests.snapshot()['patch statefulsets/scale'] ?? 0;
    });
    expect(scaled.kind === 'written' ? scaled.object.replicas : scaled).toBe(3);
    const stale = await objects.patchScale(KUBE_RESOURCES.statefulSets, namespace, 'db', 5, {
      resourceVersion: before.resourceVersion,
    });
    expect(stale.kind).toBe('requeue');
    const running = await eventually('3 replicas reported through the scale', async () => {
      const scale = await objects.getScale(KUBE_RESOURCES.statefulSets, namespace, 'db');
      return scale.currentReplicas === 3 ? scale : undefined;
    });
    expect(running).toMatchObject({ replicas: 3, selector: 'app=db' });

    await objects.apply(KUBE_RESOURCES.deployments, {
      metadata: { name: 'web', namespace },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'web', image: 'registry.invalid/web:1' }] },
        },
      },
    });
    const web = await objects.patchScale(KUBE_RESOURCES.deployments, namespace, 'web', 0);
    expect(web.kind === 'written' ? web.object.replicas : web).toBe(0);
    expect((await objects.getScale(KUBE_RESOURCES.deployments, namespace, 'web')).replicas).toBe(0);
    expect(kube.requests.snapshot()).toMatchObject({
      'get statefulsets/scale': expect.any(Number) as number,
      'patch statefulsets/scale': patches + 1,
      'patch deployments/scale': 1,
    });
  });

  it('answers a 422 with `invalid` naming the field', async () => {
    const kube = admin();
    const namespace = await cluster().namespace('invalid');
    const objects = kube.objects('pgdeck-autoscaler');
    await objects.apply(KUBE_RESOURCES.statefulSets, statefulSet(namespace, 'db', 1));
    const error = await failure(objects.patchScale(KUBE_RESOURCES.statefulSets, namespace, 'db', -1));
    expect(error.kind).toBe('invalid');
    expect(error.field).toBe('spec.replicas');
    expect(error.message).toMatch(
      /^invalid: Scale "db": spec\.replicas: Invalid value: -1: must be greater than or equal to 0/,
    );
  });

  it('aggregates a repeated Event into its series and records a transition once', async () => {
    const kube = admin();
    const namespace = await cluster().namespace('events');
    const objects = kube.objects('pgdeck-autoscaler');
    const sts = await objects.apply(KUBE_RESOURCES.statefulSets, statefulSet(namespace, 'db', 1));
    const events = kube.events({ controller: 'pgdeck.io/autoscaler', instance: 'autoscaler-0' });
    const scaled = { type: 'Normal', reason: 'ScaledUp', action: 'Scale', note: 'scaled db from 1 to 2' } as const;

    const first = await events.record(sts, scaled);
    const second = await events.record(sts, scaled);
    const third = await events.record(sts, scaled);
    expect([first.count, second.count, third.count]).toEqual([1, 2, 3]);
    expect(new Set([first.name, second.name, third.name]).size).toBe(1);
    const other = await events.record(sts, { ...scaled, note: 'scaled db from 2 to 3' });
    expect(other.name).not.toBe(first.name);

    const api = cluster().kubeConfig.makeApiClient(EventsV1Api);
    const stored = await api.readNamespacedEvent({ namespace, name: first.name });
    expect(stored.series?.count).toBe(3);
    expect(stored.regarding).toMatchObject({ kind: 'StatefulSet', name: 'db', uid: sts.metadata?.uid });
    expect(stored).toMatchObject({ reason: 'ScaledUp', reportingController: 'pgdeck.io/autoscaler' });

    const degraded = { type: 'Warning', reason: 'Degraded', action: 'Observe', note: 'db has 0 of 1 ready' } as const;
    expect(await events.recordTransition(sts, 'health', 'degraded', degraded)).not.toBeNull();
    expect(await events.recordTransition(sts, 'health', 'degraded', degraded)).toBeNull();
    const healthy = { type: 'Normal', reason: 'Healthy', action: 'Observe', note: 'db has 1 of 1 ready' } as const;
    expect((await events.recordTransition(sts, 'health', 'ok', healthy))?.count).toBe(1);
    const list = await api.listNamespacedEvent({ namespace });
    const ours = list.items.filter((e) => e.reportingController === 'pgdeck.io/autoscaler');
    expect(ours.map((e) => e.reason).sort()).toEqual(['Degraded', 'Healthy', 'ScaledUp', 'ScaledUp']);
    expect(kube.requests.snapshot()).toMatchObject({ 'create events': 4, 'patch events': 2 });
  });

  it('answers every one of many pod creates at once, over a bounded pool of kept-alive connections', async () => {
    const kube = admin();
    const namespace = await cluster().namespace('many');
    const objects = kube.objects('pgdeck-autoscaler');
    // the API server answers a pod create chunked, which node-fetch's "Premature close" check misread
    // whenever the https.Agent handed a socket on to a request it had queued (3 of 4 creates failed)
    const pod = (i: number) => ({
      metadata: {
        name: `p-${i}`,
        namespace,
        labels: { app: 'many', index: String(i) },
        annotations: { entry: `${i}-0` },
      },
      spec: {
        restartPolicy: 'Never',
        containers: [
          {
            name: 'a',
            image: 'registry.invalid/a:1',
            env: [{ name: 'INDEX', value: String(i) }],
            resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '512Mi' } },
          },
        ],
      },
    });
    const count = 4 * MAX_CONNECTIONS;
    let opened = 0;
    const createConnection = HttpsAgent.prototype.createConnection;
    HttpsAgent.prototype.createConnection = function (this: HttpsAgent, ...args: Parameters<typeof createConnection>) {
      opened += 1;
      return createConnection.apply(this, args);
    };
    let results: PromiseSettledResult<unknown>[];
    try {
      results = await Promise.allSettled(
        Array.from({ length: count }, (_, i) => objects.create(KUBE_RESOURCES.pods, pod(i))),
      );
    } finally {
      HttpsAgent.prototype.createConnection = createConnection;
    }
    const failed = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
    expect(failed.slice(0, 3)).toEqual([]);
    expect(results.map((r) => (r.status === 'fulfilled' ? (r.value as { kind: string }).kind : 'failed'))).toEqual(
      Array.from({ length: count }, () => 'created'),
    );
    expect(kube.requests.snapshot()['create pods']).toBe(count);
    expect(opened).toBeGreaterThan(0);
    expect(opened).toBeLessThanOrEqual(2 * MAX_CONNECTIONS);
    expect(await objects.list(KUBE_RESOURCES.pods, namespace, '')).toHaveLength(count);
  });

  it('reports an unreachable API server as `unavailable`', async () => {
    const { freePort } = await import('../../../src/lab/procs/ports.js');
    const port = await freePort();
    const yaml = cluster().plane.kubeconfigYaml.replace(cluster().plane.server, `https://127.0.0.1:${port}`);
    const kube = connectKube({ source: { kind: 'kubeconfig-text', yaml } });
    clients.push(kube);
    const error = await failure(
      kube.objects('x').get({ resource: KUBE_RESOURCES.configMaps, namespace: 'default', name: 'a' }),
    );
    expect(error.kind).toBe('unavailable');
    expect(error.message).toContain('ECONNREFUSED');
  });
});
