import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KUBE_RESOURCES, type KubeClient, type KubeObject } from '../../../src/agents/adapters/kube.js';
import { adminKube, eventually, withKube } from '../../helpers/kube.js';
import {
  clusterSpec,
  createCluster,
  createVolumes,
  installCrd,
  readCluster,
  startOperator,
  statusOf,
  type RunningOperator,
} from './harness.js';

const kube = withKube({ nodes: 1 });
let admin: KubeClient;
let namespace: string;
let operator: RunningOperator;

beforeAll(async () => {
  admin = adminKube(kube());
  await installCrd(admin);
  namespace = await kube().namespace('pgc-extras');
  await createVolumes(admin, `pv-extras-${process.pid}`, 2);
  operator = await startOperator(kube(), namespace, 'operator-a');
  await eventually('operator-a leads', () =>
    Promise.resolve(operator.store.getSnapshot().leadership?.leading === true),
  );
}, 180_000);

afterAll(async () => {
  await operator?.close();
  await admin?.close();
});

interface Container {
  name: string;
  env?: { name: string; value?: string }[];
  ports?: { name: string; containerPort: number }[];
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface PodTemplate {
  metadata?: { annotations?: Record<string, string> };
  spec: { containers: Container[]; volumes?: { name: string; secret?: { secretName: string } }[] };
}

const get = (resource: keyof typeof KUBE_RESOURCES, name: string): Promise<KubeObject | undefined> =>
  admin.objects('test-user').get({ resource: KUBE_RESOURCES[resource], namespace, name });
const template = async (name: string): Promise<PodTemplate | undefined> =>
  ((await get('statefulSets', name))?.spec as { template: PodTemplate } | undefined)?.template;
const env = (c: Container | undefined): Record<string, string | undefined> =>
  Object.fromEntries((c?.env ?? []).map((e) => [e.name, e.value]));

const NAME = 'gamma';
const extras = {
  pgbouncer: { enabled: true, replicas: 2, poolMode: 'session' },
  metrics: { enabled: true },
  tls: { secretName: 'gamma-tls' },
};

describe('patroni-operator: pgbouncer, the exporter and TLS on a real control plane', () => {
  it('reconciles the pooler, the exporter sidecar and the TLS mount, and removes each when turned off', async () => {
    await admin.objects('test-user').apply(KUBE_RESOURCES.secrets, {
      metadata: { name: 'gamma-tls', namespace },
      type: 'kubernetes.io/tls',
      data: { 'tls.crt': Buffer.from('cert').toString('base64'), 'tls.key': Buffer.from('key').toString('base64') },
    });
    const created = await createCluster(admin, namespace, NAME, clusterSpec({ replicas: 1, ...extras }));
    const uid = created.metadata?.uid;
    const owner = [expect.objectContaining({ kind: 'PostgresCluster', name: NAME, uid, controller: true })];

    const deployment = await eventually('the pgbouncer Deployment', () => get('deployments', 'gamma-pooler'));
    expect(deployment.metadata?.ownerReferences).toEqual(owner);
    const dspec = deployment.spec as { replicas: number; template: PodTemplate; selector: { matchLabels: object } };
    expect(dspec.replicas).toBe(2);
    const bouncer = dspec.template.spec.containers.find((c) => c.name === 'pgbouncer');
    expect(env(bouncer)).toMatchObject({ PGBOUNCER_POOL_MODE: 'session', POSTGRESQL_HOST: NAME });
    expect(bouncer?.ports).toEqual([expect.objectContaining({ name: 'pgbouncer', containerPort: 5432 })]);
    const service = await eventually('the pgbouncer Service', () => get('services', 'gamma-pooler'));
    expect(service.metadata?.ownerReferences).toEqual(owner);
    expect((service.spec as { selector: object }).selector).toEqual(dspec.selector.matchLabels);

    const pod = await eventually('the StatefulSet with the exporter', () => template(NAME));
    expect(pod.spec.containers.map((c) => c.name)).toEqual(['postgres', 'exporter']);
    const exporter = pod.spec.containers[1];
    expect(exporter?.ports).toEqual([expect.objectContaining({ name: 'metrics', containerPort: 9187 })]);
    expect(pod.metadata?.annotations).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9187' });
    expect(pod.spec.volumes).toEqual([
      expect.objectContaining({ name: 'tls', secret: expect.objectContaining({ secretName: 'gamma-tls' }) }),
    ]);
    const postgres = pod.spec.containers[0];
    expect(postgres?.volumeMounts).toContainEqual({ name: 'tls', mountPath: '/tls', readOnly: true });
    expect(env(postgres)).toMatchObject({ SSL_CERTIFICATE_FILE: '/tls/tls.crt', SSL_PRIVATE_KEY_FILE: '/tls/tls.key' });

    // pgbouncer off: its Deployment and Service go; the StatefulSet keeps the exporter and TLS
    await createCluster(admin, namespace, NAME, clusterSpec({ replicas: 1, ...extras, pgbouncer: { enabled: false } }));
    await eventually(
      'the pooler gone',
      async () =>
        (await get('deployments', 'gamma-pooler')) === undefined &&
        (await get('services', 'gamma-pooler')) === undefined,
    );
    expect((await template(NAME))?.spec.containers.map((c) => c.name)).toEqual(['postgres', 'exporter']);

    // metrics off: the sidecar and the scrape annotations go
    await createCluster(admin, namespace, NAME, clusterSpec({ replicas: 1, tls: extras.tls }));
    const bare = await eventually('the exporter gone', async () => {
      const t = await template(NAME);
      return t?.spec.containers.length === 1 ? t : undefined;
    });
    expect(bare.metadata?.annotations?.['prometheus.io/scrape']).toBeUndefined();
    expect(bare.spec.volumes?.map((v) => v.name)).toEqual(['tls']);

    // TLS off: the volume, the mount and Spilo's certificate variables go
    await createCluster(admin, namespace, NAME, clusterSpec({ replicas: 1 }));
    const plain = await eventually('the TLS volume gone', async () => {
      const t = await template(NAME);
      return t !== undefined && (t.spec.volumes ?? []).length === 0 ? t : undefined;
    });
    expect(plain.spec.containers[0]?.volumeMounts?.map((m) => m.name)).toEqual(['pgdata']);
    expect(env(plain.spec.containers[0])).not.toHaveProperty('SSL_CERTIFICATE_FILE');
  }, 120_000);

  it('an invalid TLS Secret name sets ConfigurationValid=False with a message and changes nothing', async () => {
    const before = await eventually('the StatefulSet', () => get('statefulSets', NAME));
    await createCluster(admin, namespace, NAME, clusterSpec({ replicas: 1, tls: { secretName: 'Gamma_TLS' } }));
    const status = await eventually('ConfigurationValid=False', async () => {
      const s = statusOf(await readCluster(admin, namespace, NAME));
      return s.conditions?.find((c) => c.type === 'ConfigurationValid' && c.status === 'False') === undefined
        ? undefined
        : s;
    });
    const valid = status.conditions?.find((c) => c.type === 'ConfigurationValid');
    expect(valid?.message).toContain('spec.tls.secretName must name a Secret');
    expect(valid?.message).toContain('"Gamma_TLS"');
    const after = await get('statefulSets', NAME);
    expect(after?.metadata?.generation).toBe(before.metadata?.generation);
    expect((after?.spec as { template: PodTemplate }).template.spec.volumes ?? []).toEqual([]);
  }, 60_000);
});
