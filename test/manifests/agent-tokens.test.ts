import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectKube, KUBE_RESOURCES, type KubeClient, type KubeResource } from '../../src/agents/adapters/kube.js';
import { PgdeckError } from '../../src/agents/kernel/errors.js';
import { POSTGRES_CLUSTERS } from '../../src/agents/patroni-operator/deps.js';
import { PATRONI_RULES } from '../../src/agents/patroni-operator/decide/resources-access.js';
import { eventually, withKube } from '../helpers/kube.js';
import { applyLabOverlay, kubectl, LAB_NAMESPACE as NS } from '../helpers/manifests.js';

const cluster = withKube({ nodes: 2 });
const OTHER = 'elsewhere';
const clients: KubeClient[] = [];
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
});
beforeAll(async () => {
  await applyLabOverlay(cluster(), 'lab-token-made-at-runtime-0123456789');
  await kubectl(cluster(), ['create', 'namespace', OTHER]);
}, 180_000);

/** The kube adapter acting as the agent's ServiceAccount, with a token from the TokenRequest API. */
async function as(agent: string): Promise<KubeClient> {
  const yaml = await cluster().plane.mintServiceAccountKubeconfig(NS, `pgdeck-${agent}`);
  const client = connectKube({ source: { kind: 'kubeconfig-text', yaml } });
  clients.push(client);
  return client;
}

/** The request is refused with 403 (`forbidden`); anything else fails the test. */
async function refused(call: Promise<unknown>): Promise<string> {
  const error = await call.then(
    () => new Error('the call succeeded, but the ServiceAccount must be refused'),
    (e: unknown) => e,
  );
  if (!(error instanceof PgdeckError) || error.kind !== 'forbidden') throw error;
  expect((error as PgdeckError & { status?: number }).status).toBe(403);
  return error.message;
}

const pod = (name: string, namespace = NS) => ({
  metadata: { name, namespace, labels: { 'app.kubernetes.io/managed-by': 'pgdeck-autoscaler' } },
  spec: { containers: [{ name: 'task', image: 'registry.invalid/task:1' }], restartPolicy: 'Never' },
});
const statefulSets = KUBE_RESOURCES.statefulSets;
const leaseRecord = (holder: string) => ({
  holder,
  leaseDurationSeconds: 15,
  acquireTime: Date.now(),
  renewTime: Date.now(),
  leaseTransitions: 0,
});

describe("each agent's ServiceAccount, with its own token", () => {
  it('citus-sync: watches and patches the worker pods, holds its Lease; nothing one step further', async () => {
    const kube = await as('citus-sync');
    const selector = 'app.kubernetes.io/name=citus,app.kubernetes.io/component=worker';
    const pods = kube.informers.informer(
      { resource: KUBE_RESOURCES.pods, namespace: NS, labelSelector: selector },
      new AbortController().signal,
    );
    await eventually('the worker pods listed and watched', async () => pods.state().synced && pods.list().length === 2);
    const objects = kube.objects('pgdeck-citus-sync');
    const patch = { metadata: { name: 'citus-worker-0', namespace: NS, annotations: { 'pgdeck.io/checked': 'yes' } } };
    expect((await objects.apply(KUBE_RESOURCES.pods, patch)).metadata?.annotations?.['pgdeck.io/checked']).toBe('yes');
    expect((await kube.leases.create(NS, 'pgdeck-citus-sync', leaseRecord('a'))).kind).toBe('written');
    const lease = await kube.leases.get(NS, 'pgdeck-citus-sync');
    expect(lease?.holder).toBe('a');
    expect((await kube.leases.update(NS, 'pgdeck-citus-sync', leaseRecord('b'), lease!.resourceVersion)).kind).toBe(
      'written',
    );

    expect(
      await refused(objects.delete({ resource: KUBE_RESOURCES.pods, namespace: NS, name: 'citus-worker-0' })),
    ).toMatch(/cannot delete pods/);
    await refused(objects.get({ resource: KUBE_RESOURCES.pods, namespace: NS, name: 'citus-worker-0' }));
    await refused(objects.apply(KUBE_RESOURCES.pods, { metadata: { ...patch.metadata, namespace: OTHER } }));
    await refused(objects.get({ resource: KUBE_RESOURCES.secrets, namespace: NS, name: 'citus-credentials' }));
    await refused(kube.leases.get(NS, 'pgdeck-patroni-operator'));
  });

  it('autoscaler: creates and deletes task pods, reads and sets the scale; nothing one step further', async () => {
    const kube = await as('autoscaler');
    const objects = kube.objects('pgdeck-autoscaler');
    expect((await objects.create(KUBE_RESOURCES.pods, pod('task-1-0'))).kind).toBe('created');
    await objects.delete({ resource: KUBE_RESOURCES.pods, namespace: NS, name: 'task-1-0' });
    const scale = await objects.getScale(statefulSets, NS, 'citus-worker');
    expect(scale.replicas).toBe(2);
    expect((await objects.patchScale(statefulSets, NS, 'citus-worker', 3)).kind).toBe('written');
    expect((await objects.getScale(statefulSets, NS, 'citus-worker')).replicas).toBe(3);

    const sts = { metadata: { name: 'citus-worker', namespace: NS }, spec: { replicas: 4 } };
    expect(await refused(objects.apply(statefulSets, sts))).toMatch(/cannot patch statefulsets/);
    await refused(
      objects.apply(KUBE_RESOURCES.pods, { metadata: { name: 'citus-worker-0', namespace: NS, labels: { x: 'y' } } }),
    );
    await refused(objects.create(KUBE_RESOURCES.pods, pod('task-2-0', OTHER)));
    await refused(objects.get({ resource: KUBE_RESOURCES.secrets, namespace: NS, name: 'pgdeck-api-token' }));
    await refused(objects.getScale(statefulSets, OTHER, 'citus-worker'));
  });

  it("patroni-operator: grants Patroni's Role in any namespace, writes status and Secrets; nothing one step further", async () => {
    const kube = await as('patroni-operator');
    const objects = kube.objects('pgdeck-patroni-operator');
    const meta = { name: 'sample-patroni', namespace: OTHER };
    expect(
      (await objects.apply(KUBE_RESOURCES.roles, { metadata: meta, rules: PATRONI_RULES })).metadata?.uid,
    ).toBeDefined();
    const binding = {
      metadata: meta,
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: meta.name },
      subjects: [{ kind: 'ServiceAccount', name: meta.name, namespace: OTHER }],
    };
    expect((await objects.apply(KUBE_RESOURCES.roleBindings, binding)).metadata?.uid).toBeDefined();
    const secret = {
      metadata: { name: 'sample-credentials', namespace: OTHER },
      stringData: { 'superuser-password': 'generated-in-the-test' },
    };
    expect((await objects.create(KUBE_RESOURCES.secrets, secret)).kind).toBe('created');
    const sample = await kubectl(cluster(), [
      'get',
      '-n',
      NS,
      'postgrescluster/sample',
      '-o',
      'jsonpath={.metadata.resourceVersion}',
    ]);
    const status = await objects.patchStatus(
      POSTGRES_CLUSTERS,
      NS,
      'sample',
      { phase: 'Pending' },
      { resourceVersion: sample },
    );
    expect(status.kind).toBe('written');
    await objects.deleteCollection(KUBE_RESOURCES.configMaps, OTHER, 'cluster-name=sample');

    const wider = {
      metadata: meta,
      rules: [...PATRONI_RULES, { apiGroups: [''], resources: ['secrets'], verbs: ['get'] }],
    };
    await refused(objects.apply(KUBE_RESOURCES.roles, wider));
    await refused(objects.create(KUBE_RESOURCES.pods, pod('sneaky', OTHER)));
    await refused(objects.get({ resource: KUBE_RESOURCES.secrets, namespace: OTHER, name: 'sample-credentials' }));
    await refused(objects.delete({ resource: KUBE_RESOURCES.namespaces, name: OTHER }));
    const clusterRoles: KubeResource = {
      ...KUBE_RESOURCES.roles,
      plural: 'clusterroles',
      kind: 'ClusterRole',
      namespaced: false,
    };
    await refused(objects.apply(clusterRoles, { metadata: { name: 'pgdeck-more' }, rules: PATRONI_RULES }));
    await refused(kube.leases.create(OTHER, 'pgdeck-patroni-operator', leaseRecord('x')));
  });
});
