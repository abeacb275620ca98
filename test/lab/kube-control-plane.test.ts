import {
  ApiextensionsV1Api,
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  RbacAuthorizationV1Api,
  V1MicroTime,
  Watch,
  type ApiConstructor,
  type ApiType,
  type V1ConfigMap,
  type V1Pod,
  type V1PodTemplate,
} from '@kubernetes/client-node';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PgdeckError } from '../../src/agents/kernel/errors.js';
import { startKubeControlPlane } from '../../src/lab/procs/kube-control-plane.js';
import { POD_COMPLETE_ANNOTATION } from '../../src/lab/procs/kwok-stages.js';
import { isAlive, sweepOrphans } from '../../src/lab/procs/service-dir.js';
import { apiError, eventually, orNotFound, withKube } from '../helpers/kube.js';

const cluster = withKube({ nodes: 3 });
const api = <T extends ApiType>(type: ApiConstructor<T>): T => cluster().kubeConfig.makeApiClient(type);
const container = [{ name: 'app', image: 'registry.invalid/app:1' }];
const isReady = (pod: V1Pod): boolean =>
  pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

describe('the lab Kubernetes control plane', () => {
  it('registers Ready kwok nodes that hold node Leases, reachable through the admin kubeconfig file', async () => {
    const fromFile = new KubeConfig();
    fromFile.loadFromFile(cluster().plane.kubeconfigPath);
    const nodes = (await fromFile.makeApiClient(CoreV1Api).listNode()).items;
    expect(nodes.map((n) => n.metadata?.name).sort()).toEqual([...cluster().plane.nodeNames].sort());
    for (const node of nodes) expect(node.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    const leases = (
      await fromFile.makeApiClient(CoordinationV1Api).listNamespacedLease({ namespace: 'kube-node-lease' })
    ).items;
    expect(leases.map((l) => l.metadata?.name).sort()).toEqual([...cluster().plane.nodeNames].sort());
    expect(new Set(leases.map((l) => l.spec?.holderIdentity)).size).toBe(1); // the kwok controller holds them all
    expect(leases.every((l) => l.spec?.leaseDurationSeconds === 40)).toBe(true);
  });

  it('schedules a Deployment onto kwok nodes, whose pods turn Running and Ready', async () => {
    const namespace = await cluster().namespace('deploy');
    const labels = { app: 'web' };
    await api(AppsV1Api).createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: 'web' },
        spec: {
          replicas: 4,
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: { containers: container } },
        },
      },
    });
    await eventually(
      '4 ready replicas',
      async () =>
        (await api(AppsV1Api).readNamespacedDeployment({ namespace, name: 'web' })).status?.readyReplicas === 4,
    );
    const pods = (await api(CoreV1Api).listNamespacedPod({ namespace, labelSelector: 'app=web' })).items;
    expect(pods).toHaveLength(4);
    for (const pod of pods) {
      expect(cluster().plane.nodeNames).toContain(pod.spec?.nodeName);
      expect(pod.status?.phase).toBe('Running');
      expect(isReady(pod)).toBe(true);
      expect(pod.status?.podIP).toMatch(/^10\.244\./);
    }
  });

  it('starts a StatefulSet in order and recreates a deleted member under the same name', async () => {
    const namespace = await cluster().namespace('sts');
    const labels = { app: 'db' };
    const added: string[] = [];
    const watch = await new Watch(cluster().kubeConfig).watch(
      `/api/v1/namespaces/${namespace}/pods`,
      {},
      (phase, pod: V1Pod) => {
        if (phase === 'ADDED') added.push(pod.metadata?.name ?? '');
      },
      () => undefined,
    );
    try {
      await api(CoreV1Api).createNamespacedService({
        namespace,
        body: { metadata: { name: 'db' }, spec: { clusterIP: 'None', selector: labels } },
      });
      await api(AppsV1Api).createNamespacedStatefulSet({
        namespace,
        body: {
          metadata: { name: 'db' },
          spec: {
            replicas: 3,
            serviceName: 'db',
            selector: { matchLabels: labels },
            template: { metadata: { labels }, spec: { containers: container } },
          },
        },
      });
      await eventually(
        '3 ready members',
        async () =>
          (await api(AppsV1Api).readNamespacedStatefulSet({ namespace, name: 'db' })).status?.readyReplicas === 3,
      );
      expect(added).toEqual(['db-0', 'db-1', 'db-2']);

      const before = await api(CoreV1Api).readNamespacedPod({ namespace, name: 'db-1' });
      await api(CoreV1Api).deleteNamespacedPod({ namespace, name: 'db-1' });
      const after = await eventually('db-1 recreated and Ready', async () => {
        const pod = await orNotFound(api(CoreV1Api).readNamespacedPod({ namespace, name: 'db-1' }));
        return pod !== undefined && pod.metadata?.uid !== before.metadata?.uid && isReady(pod) ? pod : undefined;
      });
      expect(after.metadata?.name).toBe('db-1');
    } finally {
      watch.abort();
    }
  });

  it('establishes a CRD and rejects a custom resource that breaks its schema', async () => {
    const namespace = await cluster().namespace('crd');
    const group = 'lab.pgdeck.io';
    await api(ApiextensionsV1Api).createCustomResourceDefinition({
      body: {
        metadata: { name: `widgets.${group}` },
        spec: {
          group,
          scope: 'Namespaced',
          names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
          versions: [
            {
              name: 'v1',
              served: true,
              storage: true,
              schema: {
                openAPIV3Schema: {
                  type: 'object',
                  properties: {
                    spec: { type: 'object', required: ['size'], properties: { size: { type: 'integer', minimum: 1 } } },
                  },
                },
              },
            },
          ],
        },
      },
    });
    await eventually('CRD Established', async () =>
      (
        await api(ApiextensionsV1Api).readCustomResourceDefinition({ name: `widgets.${group}` })
      ).status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True'),
    );
    const widget = (name: string, size: number): object => ({
      apiVersion: `${group}/v1`,
      kind: 'Widget',
      metadata: { name },
      spec: { size },
    });
    const custom = api(CustomObjectsApi);
    await eventually('the Widget endpoint serving', () =>
      custom.createNamespacedCustomObject({
        group,
        version: 'v1',
        namespace,
        plural: 'widgets',
        body: widget('good', 3),
      }),
    );

    const rejected = await apiError(
      custom.createNamespacedCustomObject({
        group,
        version: 'v1',
        namespace,
        plural: 'widgets',
        body: widget('bad', 0),
      }),
    );
    expect(rejected.code).toBe(422);
    expect(rejected.message).toContain(
      'spec.size: Invalid value: 0: spec.size in body should be greater than or equal to 1',
    );
  });

  it('applies server-side per field manager and answers a conflicting manager with 409', async () => {
    const namespace = await cluster().namespace('ssa');
    const objects = KubernetesObjectApi.makeApiClient(cluster().kubeConfig);
    const configMap = (value: string): V1ConfigMap => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'settings', namespace },
      data: { mode: value },
    });
    const apply = (value: string, manager: string, force: boolean): Promise<V1ConfigMap> =>
      objects.patch(configMap(value), undefined, undefined, manager, force, PatchStrategy.ServerSideApply);

    const first = await apply('fast', 'pgdeck-operator', false);
    expect(first.metadata?.managedFields?.map((f) => [f.manager, f.operation])).toEqual([['pgdeck-operator', 'Apply']]);
    await apply('fast', 'pgdeck-operator', false); // re-applying one's own intent is a no-op, not a conflict

    const conflict = await apiError(apply('safe', 'someone-else', false));
    expect(conflict.code).toBe(409);
    expect(conflict.message).toContain('conflict with "pgdeck-operator"');
    expect((await api(CoreV1Api).readNamespacedConfigMap({ namespace, name: 'settings' })).data).toEqual({
      mode: 'fast',
    });

    const forced = await apply('safe', 'someone-else', true);
    expect(forced.data).toEqual({ mode: 'safe' });
    expect(forced.metadata?.managedFields?.map((f) => f.manager)).toEqual(['someone-else']);
  });

  it('garbage-collects dependents once their owner is deleted', async () => {
    const namespace = await cluster().namespace('gc');
    const core = api(CoreV1Api);
    const owner = await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'owner' } } });
    const ownerReferences = [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata?.uid ?? '' }];
    await core.createNamespacedSecret({ namespace, body: { metadata: { name: 'dependent', ownerReferences } } });
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'bystander' } } });

    await core.deleteNamespacedConfigMap({ namespace, name: 'owner' });
    await eventually(
      'the dependent Secret gone',
      async () => (await orNotFound(core.readNamespacedSecret({ namespace, name: 'dependent' }))) === undefined,
    );
    expect(await orNotFound(core.readNamespacedConfigMap({ namespace, name: 'bystander' }))).toBeDefined();
  });

  it('answers a watch from a compacted resourceVersion with 410 Gone, and resumes after a relist', async () => {
    const namespace = await cluster().namespace('watch');
    const core = api(CoreV1Api);
    const template = (version: string): V1PodTemplate => ({
      metadata: { name: 'tpl', labels: { version } },
      template: { spec: { containers: container } },
    });
    const created = await core.createNamespacedPodTemplate({ namespace, body: template('0') });
    for (const version of ['1', '2', '3'])
      await core.replaceNamespacedPodTemplate({ namespace, name: 'tpl', body: template(version) });
    await cluster().plane.compactEtcd();

    const path = `/api/v1/namespaces/${namespace}/podtemplates`;
    const gone = await new Promise<{ type: string; code?: number; reason?: string }>((resolve, reject) => {
      void new Watch(cluster().kubeConfig)
        .watch(
          path,
          { resourceVersion: created.metadata?.resourceVersion },
          (type, object: { code?: number; reason?: string }) => {
            resolve({ type, code: object.code, reason: object.reason });
          },
          (error: unknown) => reject(new Error(`watch ended without an event: ${String(error)}`)),
        )
        .catch(reject);
    });
    expect(gone).toEqual({ type: 'ERROR', code: 410, reason: 'Expired' });

    const relisted = await core.listNamespacedPodTemplate({ namespace });
    expect(relisted.items.map((t) => t.metadata?.labels?.version)).toEqual(['3']);
    const seen: string[] = [];
    const resumed = await new Watch(cluster().kubeConfig).watch(
      path,
      { resourceVersion: relisted.metadata?.resourceVersion },
      (type, object: V1PodTemplate) => {
        seen.push(`${type} ${object.metadata?.labels?.version ?? ''}`);
      },
      () => undefined,
    );
    try {
      await core.replaceNamespacedPodTemplate({ namespace, name: 'tpl', body: template('4') });
      await eventually('the update after the relist', async () => seen.length > 0);
      expect(seen).toEqual(['MODIFIED 4']);
    } finally {
      resumed.abort();
    }
  });

  it('acquires a Lease and renews it, and a stale contender loses with 409', async () => {
    const namespace = await cluster().namespace('lease');
    const leases = api(CoordinationV1Api);
    // MicroTime fields need V1MicroTime: a plain Date serializes with milliseconds, which the API server rejects (400)
    const acquired = await leases.createNamespacedLease({
      namespace,
      body: {
        metadata: { name: 'leader' },
        spec: {
          holderIdentity: 'pg-0',
          leaseDurationSeconds: 10,
          acquireTime: new V1MicroTime(),
          renewTime: new V1MicroTime(),
          leaseTransitions: 0,
        },
      },
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const renewed = await leases.replaceNamespacedLease({
      namespace,
      name: 'leader',
      body: { ...acquired, spec: { ...acquired.spec, renewTime: new V1MicroTime() } },
    });
    const millis = (time: unknown): number => new Date(time as string).getTime();
    expect(renewed.spec?.holderIdentity).toBe('pg-0');
    expect(millis(renewed.spec?.renewTime)).toBeGreaterThanOrEqual(millis(acquired.spec?.renewTime) + 20);
    expect(renewed.metadata?.resourceVersion).not.toBe(acquired.metadata?.resourceVersion);

    const stale = await apiError(
      leases.replaceNamespacedLease({
        namespace,
        name: 'leader',
        body: { ...acquired, spec: { ...acquired.spec, holderIdentity: 'pg-1', leaseTransitions: 1 } },
      }),
    );
    expect(stale.code).toBe(409);
    expect(stale.message).toContain('the object has been modified');
    expect((await leases.readNamespacedLease({ namespace, name: 'leader' })).spec?.holderIdentity).toBe('pg-0');
  });

  it('limits a ServiceAccount to its Role and answers everything else with 403', async () => {
    const namespace = await cluster().namespace('rbac');
    const other = await cluster().namespace('rbac-other');
    await api(CoreV1Api).createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'reader' } } });
    await api(RbacAuthorizationV1Api).createNamespacedRole({
      namespace,
      body: {
        metadata: { name: 'read-configmaps' },
        rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }],
      },
    });
    await api(RbacAuthorizationV1Api).createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name: 'reader' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'read-configmaps' },
        subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace }],
      },
    });
    const reader = (await cluster().serviceAccountConfig(namespace, 'reader')).makeApiClient(CoreV1Api);

    const allowed = await eventually('the RoleBinding in effect', () => reader.listNamespacedConfigMap({ namespace }));
    expect(allowed.items.map((c) => c.metadata?.name)).toContain('kube-root-ca.crt');
    const secrets = await apiError(reader.listNamespacedSecret({ namespace }));
    expect(secrets.code).toBe(403);
    expect(secrets.message).toContain(
      `User "system:serviceaccount:${namespace}:reader" cannot list resource "secrets"`,
    );
    expect((await apiError(reader.listNamespacedConfigMap({ namespace: other }))).code).toBe(403);
    expect(
      (await apiError(reader.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'x' } } }))).code,
    ).toBe(403);
  });

  it(`completes a pod annotated ${POD_COMPLETE_ANNOTATION}, with the requested phase`, async () => {
    const namespace = await cluster().namespace('task');
    const core = api(CoreV1Api);
    for (const name of ['ok', 'broken']) {
      await core.createNamespacedPod({
        namespace,
        body: { metadata: { name }, spec: { restartPolicy: 'Never', containers: container } },
      });
    }
    await eventually(
      'both pods Running',
      async () =>
        (await core.listNamespacedPod({ namespace })).items.filter((p) => p.status?.phase === 'Running').length === 2,
    );
    const complete = (name: string, phase: string): Promise<V1Pod> =>
      core.patchNamespacedPod({
        namespace,
        name,
        body: [{ op: 'add', path: `/metadata/annotations`, value: { [POD_COMPLETE_ANNOTATION]: phase } }],
      });
    await complete('ok', 'Succeeded');
    await complete('broken', 'Failed');

    const ok = await eventually('ok Succeeded', async () => {
      const pod = await core.readNamespacedPod({ namespace, name: 'ok' });
      return pod.status?.phase === 'Succeeded' ? pod : undefined;
    });
    expect(ok.status?.containerStatuses?.[0]?.state?.terminated?.exitCode).toBe(0);
    const broken = await eventually('broken Failed', async () => {
      const pod = await core.readNamespacedPod({ namespace, name: 'broken' });
      return pod.status?.phase === 'Failed' ? pod : undefined;
    });
    expect(broken.status?.containerStatuses?.[0]?.state?.terminated?.exitCode).toBe(1);
    expect(isReady(broken)).toBe(false);
  });
});

describe('starting and stopping the control plane', () => {
  const ownedBy = (name: string): string | undefined => {
    try {
      return readFileSync(join(tmpdir(), name, 'owner.pid'), 'utf8');
    } catch {
      return undefined; // another run's dir, removed meanwhile
    }
  };
  const ownDirs = (): string[] =>
    readdirSync(tmpdir()).filter(
      (name) => name.startsWith('pgdeck-svc-kube-') && ownedBy(name) === String(process.pid),
    );

  it('stops what it started when the start is aborted, leaving no dir behind', async () => {
    const before = ownDirs();
    const error: unknown = await startKubeControlPlane({ signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PgdeckError);
    expect((error as PgdeckError).kind).toBe('aborted');
    expect(ownDirs()).toEqual(before);
  });

  it('says how to build the binaries when PGDECK_KUBE_BIN lacks them', async () => {
    const saved = process.env.PGDECK_KUBE_BIN;
    process.env.PGDECK_KUBE_BIN = tmpdir();
    try {
      const error: unknown = await startKubeControlPlane().catch((e: unknown) => e);
      expect((error as PgdeckError).kind).toBe('unavailable');
      expect((error as PgdeckError).message).toContain(`PGDECK_KUBE_BIN=${tmpdir()} lacks one of etcd, kube-apiserver`);
    } finally {
      if (saved === undefined) delete process.env.PGDECK_KUBE_BIN;
      else process.env.PGDECK_KUBE_BIN = saved;
    }
  });

  it('leaves no process behind a test run that crashed, once the next run sweeps', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/kube-orphan-maker.ts'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const pids = await new Promise<number[]>((resolve, reject) => {
      child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim().split(' ').map(Number)));
      child.once('exit', () => reject(new Error('the orphan maker exited early')));
    });
    expect(pids).toHaveLength(5);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(pids.filter(isAlive)).toHaveLength(5);

    expect(sweepOrphans()).toBeGreaterThanOrEqual(1);
    await eventually('the orphans gone', async () => pids.every((pid) => !isAlive(pid)), 5000);
  });
});
