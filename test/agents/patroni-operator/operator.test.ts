import { CoreV1Api, EventsV1Api } from '@kubernetes/client-node';
import { getEventListeners } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KUBE_RESOURCES, type KubeClient, type KubeObject } from '../../../src/agents/adapters/kube.js';
import { POSTGRES_CLUSTERS } from '../../../src/agents/patroni-operator/deps.js';
import { membersOf, PATRONI_API_ANNOTATION } from '../../../src/agents/patroni-operator/observe.js';
import { adminKube, eventually, orNotFound, withKube } from '../../helpers/kube.js';
import {
  clusterSpec,
  createCluster,
  createVolumes,
  installCrd,
  labelRoles,
  readCluster,
  startOperator,
  statusOf,
  type RunningOperator,
} from './harness.js';

const kube = withKube({ nodes: 3 });
const WRITES = ['create', 'update', 'patch', 'delete', 'deletecollection'];
let admin: KubeClient;
let namespace: string;
let leader: RunningOperator;

beforeAll(async () => {
  admin = adminKube(kube());
  await installCrd(admin);
  namespace = await kube().namespace('pgc');
  await createVolumes(admin, `pv-${process.pid}`, 12);
  leader = await startOperator(kube(), namespace, 'operator-a');
  await eventually('operator-a leads', () => Promise.resolve(leader.store.getSnapshot().leadership?.leading === true));
}, 180_000);

afterAll(async () => {
  await leader?.close();
  await admin?.close();
});

const get = (resource: keyof typeof KUBE_RESOURCES, name: string): Promise<KubeObject | undefined> =>
  admin.objects('test-user').get({ resource: KUBE_RESOURCES[resource], namespace, name });

async function waitPhase(name: string, phase: string, extra: (s: ReturnType<typeof statusOf>) => boolean = () => true) {
  const tail = (): string =>
    leader.store.journal
      .since(Math.max(0, leader.store.journal.lastSeq - 8))
      .events.map((e) => `${e.message} ${JSON.stringify(e.fields)}`)
      .join(' | ');
  return eventually(
    `${name} in phase ${phase}`,
    async () => {
      const s = statusOf(await readCluster(admin, namespace, name));
      return s.phase === phase && extra(s) ? s : undefined;
    },
    60_000,
  ).catch(async (error: unknown) => {
    const seen = JSON.stringify(statusOf(await readCluster(admin, namespace, name)));
    throw new Error(`${String(error)}; status ${seen}; the operator's last events: ${tail()}`);
  });
}

async function eventReasons(name: string): Promise<string[]> {
  const events = await kube().kubeConfig.makeApiClient(EventsV1Api).listNamespacedEvent({ namespace });
  return events.items.filter((e) => e.regarding?.name === name).map((e) => e.reason ?? '');
}

describe('patroni-operator on a real control plane', () => {
  it('creates every owned object with owner references, labels and selectors, then reaches Running', async () => {
    const created = await createCluster(admin, namespace, 'alpha', clusterSpec());
    const uid = created.metadata?.uid;
    const names: [keyof typeof KUBE_RESOURCES, string][] = [
      ['serviceAccounts', 'alpha-patroni'],
      ['roles', 'alpha-patroni'],
      ['roleBindings', 'alpha-patroni'],
      ['configMaps', 'alpha-spilo'],
      ['secrets', 'alpha-credentials'],
      ['services', 'alpha'],
      ['services', 'alpha-repl'],
      ['services', 'alpha-headless'],
      ['statefulSets', 'alpha'],
      ['podDisruptionBudgets', 'alpha'],
    ];
    for (const [resource, name] of names) {
      const o = await eventually(`${resource}/${name}`, () => get(resource, name));
      expect(o.metadata?.ownerReferences).toEqual([
        expect.objectContaining({ kind: 'PostgresCluster', name: 'alpha', uid, controller: true }),
      ]);
      expect(o.metadata?.labels).toMatchObject({
        'app.kubernetes.io/instance': 'alpha',
        'app.kubernetes.io/managed-by': 'pgdeck-patroni-operator',
        'cluster-name': 'alpha',
      });
    }
    const primary = (await get('services', 'alpha'))?.spec as { selector: Record<string, string> };
    expect(primary.selector).toEqual({ application: 'spilo', 'cluster-name': 'alpha', 'spilo-role': 'master' });
    const secret = (await get('secrets', 'alpha-credentials'))?.data as Record<string, string>;
    expect(Buffer.from(secret['superuser-password'] ?? '', 'base64').length).toBe(32);
    const sts = (await get('statefulSets', 'alpha'))?.spec as {
      replicas: number;
      template: { spec: { serviceAccountName: string; containers: { env: { name: string; value?: string }[] }[] } };
    };
    expect(sts.replicas).toBe(3);
    expect(sts.template.spec.serviceAccountName).toBe('alpha-patroni');
    expect(sts.template.spec.containers[0]?.env).toContainEqual({ name: 'SCOPE', value: 'alpha' });
    const withFinalizer = await readCluster(admin, namespace, 'alpha');
    expect(withFinalizer?.metadata?.finalizers).toContain('pgdeck.io/patroni-operator');

    await labelRoles(kube(), admin, namespace, 'alpha', 3);
    const status = await waitPhase('alpha', 'Running');
    expect(status.readyReplicas).toBe(3);
    expect(status.primaryPod).toBe('alpha-0');
    expect(status.replicaPods).toEqual(['alpha-1', 'alpha-2']);
    expect(status.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(status.observedGeneration).toBe(withFinalizer?.metadata?.generation);
    expect(await eventReasons('alpha')).toContain('Running');
  }, 120_000);

  it('ignores the pgdeck.io/patroni-api annotation while patroniApiAnnotation is off (the default)', async () => {
    expect(leader.config.patroniApiAnnotation).toBe(false);
    const elsewhere = '127.0.0.1:1';
    await admin.objects('test-annotator').apply(KUBE_RESOURCES.pods, {
      metadata: { name: 'alpha-1', namespace, annotations: { [PATRONI_API_ANNOTATION]: elsewhere } },
    });
    const ip = await eventually("the annotation in the operator's pod cache", () => {
      const pod = leader.deps.pods.get('alpha-1', namespace);
      const seen = pod?.metadata?.annotations?.[PATRONI_API_ANNOTATION] === elsewhere;
      return Promise.resolve(seen ? (pod?.status as { podIP?: string } | undefined)?.podIP : undefined);
    });
    const api = (allow: boolean): string | undefined =>
      membersOf({ ...leader.deps, patroniApiAnnotation: allow }, namespace, 'alpha').find((m) => m.name === 'alpha-1')
        ?.api;
    expect(api(leader.deps.patroniApiAnnotation)).toBe(`${ip}:8008`);
    expect(api(true)).toBe(elsewhere);
  }, 60_000);

  it('a steady-state reconcile issues zero write requests', async () => {
    const key = `${namespace}/alpha`;
    const reconciled = (from: number, quiet: boolean) =>
      leader.store.journal
        .since(from)
        .events.some(
          (e) =>
            e.kind === 'decided' &&
            e.fields?.key === key &&
            (!quiet || (e.fields.actions as readonly string[] | undefined)?.length === 0),
        );
    const settled = leader.store.journal.lastSeq;
    leader.enqueue(key);
    await eventually(
      'a reconcile of alpha with nothing to do',
      () => {
        leader.enqueue(key);
        return Promise.resolve(reconciled(settled, true));
      },
      20_000,
    ).catch(async (error: unknown) => {
      const last = leader.store.journal
        .since(settled)
        .events.filter((e) => e.fields?.key === key)
        .slice(-3)
        .map((e) => `${e.message} ${JSON.stringify(e.fields)}`);
      const s = JSON.stringify(statusOf(await readCluster(admin, namespace, 'alpha')));
      throw new Error(`${String(error)}: ${last.join(' | ')}; status ${s}`);
    });
    const requests = leader.deps.kube.requests;
    requests.reset();
    const from = leader.store.journal.lastSeq;
    for (let i = 0; i < 5; i++) leader.enqueue(key);
    await eventually('a reconcile of alpha after the reset', () => Promise.resolve(reconciled(from, false)));
    const writes = Object.entries(requests.snapshot()).filter(([k]) => WRITES.includes(k.split(' ')[0] ?? ''));
    expect(writes).toEqual([]);
  }, 60_000);

  it('a spec edit goes through Updating back to Running with the new observedGeneration', async () => {
    const edited = await createCluster(
      admin,
      namespace,
      'alpha',
      clusterSpec({ postgresqlParams: { max_connections: '200' } }),
    );
    const generation = edited.metadata?.generation ?? 0;
    const status = await waitPhase('alpha', 'Running', (s) => s.observedGeneration === generation);
    expect(status.observedGeneration).toBe(generation);
    const config = (await get('configMaps', 'alpha-spilo'))?.data as Record<string, string>;
    expect(JSON.parse(config['patroni.yaml'] ?? '{}')).toMatchObject({
      postgresql: { parameters: { max_connections: '200' } },
    });
    expect(await eventReasons('alpha')).toContain('Updating');
  }, 120_000);

  it("keeps the same abort listeners on the agent's signal over many reconcile passes and spec edits", async () => {
    const key = `${namespace}/alpha`;
    const listeners = (): number => getEventListeners(leader.signal, 'abort').length;
    const before = listeners();
    // one per informer registry holder and one for the watch subscriptions, not one per informer
    expect(before).toBeLessThanOrEqual(4);
    const decided = (from: number): number =>
      leader.store.journal.since(from).events.filter((e) => e.kind === 'decided' && e.fields?.key === key).length;
    for (let pass = 0; pass < 60; pass++) {
      const from = leader.store.journal.lastSeq;
      leader.enqueue(key);
      await eventually(`reconcile pass ${pass} of alpha`, () => Promise.resolve(decided(from) > 0), 20_000);
    }
    for (const maxConnections of ['201', '202', '203']) {
      const generation = (
        await createCluster(
          admin,
          namespace,
          'alpha',
          clusterSpec({ postgresqlParams: { max_connections: maxConnections } }),
        )
      ).metadata?.generation;
      await waitPhase('alpha', 'Running', (st) => st.observedGeneration === generation);
    }
    expect(listeners()).toBe(before);
  }, 120_000);

  it('scales through the scale subresource (kubectl scale pgc/alpha --replicas=4)', async () => {
    const scaled = await admin.objects('kubectl').patchScale(POSTGRES_CLUSTERS, namespace, 'alpha', 4);
    expect(scaled.kind).toBe('written');
    await eventually('the StatefulSet at 4', async () => {
      const spec = (await get('statefulSets', 'alpha'))?.spec as { replicas?: number } | undefined;
      return spec?.replicas === 4;
    });
    await labelRoles(kube(), admin, namespace, 'alpha', 4);
    const status = await waitPhase('alpha', 'Running', (s) => s.readyReplicas === 4);
    expect(status.replicas).toBe(4);
    const scale = await admin.objects('kubectl').getScale(POSTGRES_CLUSTERS, namespace, 'alpha');
    expect(scale).toMatchObject({ replicas: 4, currentReplicas: 4, selector: 'application=spilo,cluster-name=alpha' });
    expect(await eventReasons('alpha')).toContain('Scaling');
  }, 120_000);

  it('refuses replicas < 1 and an unknown pool mode in the CRD schema', async () => {
    for (const spec of [
      clusterSpec({ replicas: 0 }),
      clusterSpec({ pgbouncer: { enabled: true, poolMode: 'bogus' } }),
    ]) {
      const refused = await admin
        .objects('test-user')
        .apply(POSTGRES_CLUSTERS, { metadata: { name: 'refused', namespace }, spec })
        .then(
          () => null,
          (error: unknown) => error,
        );
      expect(refused).toMatchObject({ kind: 'invalid' });
    }
    expect(await readCluster(admin, namespace, 'refused')).toBeUndefined();
  });

  it('an unsupported version or a storage shrink sets ConfigurationValid=False and touches nothing', async () => {
    const stsBefore = await get('statefulSets', 'alpha');
    const cmBefore = await get('configMaps', 'alpha-spilo');
    for (const [spec, words] of [
      [clusterSpec({ replicas: 4, version: 9 }), 'spec.version 9 is not supported'],
      [clusterSpec({ replicas: 4, storage: { size: '512Mi', storageClass: 'manual' } }), 'storage cannot shrink'],
    ] as const) {
      await createCluster(admin, namespace, 'alpha', spec);
      const valid = await eventually(
        `ConfigurationValid=False for ${words}`,
        async () => {
          const c = statusOf(await readCluster(admin, namespace, 'alpha')).conditions?.find(
            (x) => x.type === 'ConfigurationValid',
          );
          return c?.status === 'False' && c.message.includes(words) ? c : undefined;
        },
        30_000,
      );
      expect(valid.reason).toBe('InvalidSpec');
      expect((await get('statefulSets', 'alpha'))?.metadata?.resourceVersion).toBe(
        stsBefore?.metadata?.resourceVersion,
      );
      expect((await get('configMaps', 'alpha-spilo'))?.metadata?.resourceVersion).toBe(
        cmBefore?.metadata?.resourceVersion,
      );
    }
    expect(await eventReasons('alpha')).toContain('InvalidSpec');
    await createCluster(
      admin,
      namespace,
      'alpha',
      clusterSpec({ replicas: 4, postgresqlParams: { max_connections: '200' } }),
    );
    await eventually('ConfigurationValid=True again', async () => {
      const s = statusOf(await readCluster(admin, namespace, 'alpha'));
      return s.conditions?.find((x) => x.type === 'ConfigurationValid')?.status === 'True' && s.phase === 'Running';
    });
  }, 90_000);

  it('a second replica stays passive: it publishes the clusters and writes nothing', async () => {
    const standby = await startOperator(kube(), namespace, 'operator-b');
    try {
      await eventually('operator-b sees alpha and who leads', () => {
        const snap = standby.store.getSnapshot();
        return Promise.resolve(
          snap.state?.clusters.some((c) => c.name === 'alpha') === true && snap.leadership?.holder === 'operator-a',
        );
      });
      const snapshot = standby.store.getSnapshot();
      expect(snapshot.leadership).toMatchObject({ leading: false, holder: 'operator-a' });
      standby.enqueue(`${namespace}/alpha`);
      await createCluster(
        admin,
        namespace,
        'alpha',
        clusterSpec({ replicas: 4, postgresqlParams: { max_connections: '210' } }),
      );
      await waitPhase('alpha', 'Running', (s) => s.observedGeneration === undefined || s.observedGeneration > 0);
      const writes = Object.entries(standby.deps.kube.requests.snapshot()).filter(
        ([k]) => WRITES.includes(k.split(' ')[0] ?? '') && !k.endsWith(' leases'),
      );
      expect(writes).toEqual([]);
    } finally {
      await standby.close();
    }
  }, 60_000);

  it('delete runs the finalizer: Patroni’s DCS objects and, with reclaimPolicy Delete, the claims go', async () => {
    await createCluster(
      admin,
      namespace,
      'beta',
      clusterSpec({ replicas: 1, storage: { size: '1Gi', storageClass: 'manual', reclaimPolicy: 'Delete' } }),
    );
    await labelRoles(kube(), admin, namespace, 'beta', 1);
    await waitPhase('beta', 'Running');
    const core = kube().kubeConfig.makeApiClient(CoreV1Api);
    await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'beta-leader', labels: { application: 'spilo', 'cluster-name': 'beta' } } },
    });
    const claims = await core.listNamespacedPersistentVolumeClaim({ namespace, labelSelector: 'cluster-name=beta' });
    expect(claims.items.length).toBe(1);
    await admin.objects('test-user').delete({ resource: POSTGRES_CLUSTERS, namespace, name: 'beta' });
    await eventually('beta gone', async () => (await readCluster(admin, namespace, 'beta')) === undefined, 60_000);
    expect(await orNotFound(core.readNamespacedConfigMap({ namespace, name: 'beta-leader' }))).toBeUndefined();
    await eventually('beta claims gone', async () =>
      (await core.listNamespacedPersistentVolumeClaim({ namespace, labelSelector: 'cluster-name=beta' })).items.every(
        (c) => c.metadata?.deletionTimestamp !== undefined,
      ),
    );
    expect(await eventReasons('beta')).toContain('Deleting');
  }, 120_000);
});
