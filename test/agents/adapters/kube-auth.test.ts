import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { connectKube, KUBE_RESOURCES, type KubeClient, type KubeSource } from '../../../src/agents/adapters/kube.js';
import { PgdeckError } from '../../../src/agents/kernel/errors.js';
import { eventually, serviceAccountKubeconfig, withKube } from '../../helpers/kube.js';

const cluster = withKube({ nodes: 1 });
const clients: KubeClient[] = [];
const dirs: string[] = [];
const connect = (source: KubeSource): KubeClient => {
  const client = connectKube({ source, informer: { backoff: { baseMs: 100, maxMs: 500, jitter: 0.2 } } });
  clients.push(client);
  return client;
};
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'pgdeck-kube-auth-'));
  dirs.push(dir);
  return dir;
};

const failure = async (call: Promise<unknown>): Promise<PgdeckError> => {
  const error: unknown = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof PgdeckError)) throw new Error(`expected a PgdeckError, got ${String(error)}`);
  return error;
};

const statefulSet = (namespace: string): Record<string, unknown> => ({
  metadata: { name: 'db', namespace },
  spec: {
    replicas: 1,
    serviceName: 'db',
    selector: { matchLabels: { app: 'db' } },
    template: {
      metadata: { labels: { app: 'db' } },
      spec: { containers: [{ name: 'db', image: 'registry.invalid/db:1' }] },
    },
  },
});

/** A ServiceAccount that may read StatefulSets but not patch them (nor read their scale). */
async function reader(namespace: string): Promise<string> {
  return serviceAccountKubeconfig(cluster(), namespace, 'pgdeck', [
    { apiGroups: ['apps'], resources: ['statefulsets'], verbs: ['get', 'list', 'watch'] },
  ]);
}

describe('kube adapter credentials and RBAC', () => {
  it('names the refused verb, resource, namespace and ServiceAccount in `forbidden`', async () => {
    const namespace = await cluster().namespace('rbac');
    const kube = connect({ kind: 'kubeconfig-text', yaml: await reader(namespace) });
    const objects = kube.objects('pgdeck-autoscaler');

    const patch = await failure(objects.apply(KUBE_RESOURCES.statefulSets, statefulSet(namespace)));
    expect(patch.kind).toBe('forbidden');
    expect(patch.message).toBe(
      `forbidden: cannot patch statefulsets in namespace "${namespace}" (as system:serviceaccount:${namespace}:pgdeck)`,
    );
    const scale = await failure(objects.getScale(KUBE_RESOURCES.statefulSets, namespace, 'db'));
    expect(scale.message).toBe(
      `forbidden: cannot get statefulsets/scale in namespace "${namespace}" (as system:serviceaccount:${namespace}:pgdeck)`,
    );
    expect(await objects.get({ resource: KUBE_RESOURCES.statefulSets, namespace, name: 'db' })).toBeUndefined();
  });

  it('keeps a refused list as informer data: not synced, the last error forbidden', async () => {
    const namespace = await cluster().namespace('rbac-informer');
    const kube = connect({ kind: 'kubeconfig-text', yaml: await reader(namespace) });
    const signal = new AbortController();
    const allowed = kube.informers.informer({ resource: KUBE_RESOURCES.statefulSets, namespace }, signal.signal);
    const refused = kube.informers.informer({ resource: KUBE_RESOURCES.secrets, namespace }, signal.signal);
    try {
      await eventually('the StatefulSet informer synced', async () => allowed.state().synced);
      const state = await eventually('the Secret informer failing', async () =>
        refused.state().lastError !== null ? refused.state() : undefined,
      );
      expect(state.synced).toBe(false);
      expect(state.lastError?.kind).toBe('forbidden');
      expect(state.lastError?.message).toContain(`cannot list secrets in namespace "${namespace}"`);
    } finally {
      signal.abort();
    }
  });

  it('answers a bad token with `unauthorized`, on a call and in an informer', async () => {
    const namespace = await cluster().namespace('badtoken');
    const good = await reader(namespace);
    const doc = parse(good) as { users: { user: { token: string } }[] };
    const token = doc.users[0]?.user.token ?? '';
    expect(token.length).toBeGreaterThan(20);
    const kube = connect({ kind: 'kubeconfig-text', yaml: good.replace(token, 'not-a-valid-token') });
    const error = await failure(
      kube.objects('x').get({ resource: KUBE_RESOURCES.statefulSets, namespace, name: 'db' }),
    );
    expect(error.kind).toBe('unauthorized');
    expect(error.message).toContain('rejected the credentials');
    const signal = new AbortController();
    const informer = kube.informers.informer({ resource: KUBE_RESOURCES.statefulSets, namespace }, signal.signal);
    try {
      const state = await eventually('the informer failing', async () => informer.state().lastError ?? undefined);
      expect(state.kind).toBe('unauthorized');
      expect(informer.state().synced).toBe(false);
    } finally {
      signal.abort();
    }
  });

  it('loads a kubeconfig context by name, and names the contexts there are when it is missing', async () => {
    const namespace = await cluster().namespace('context');
    const dir = tempDir();
    const saFile = join(dir, 'sa.kubeconfig');
    writeFileSync(saFile, await reader(namespace));
    const paths = `${cluster().plane.kubeconfigPath}${delimiter}${saFile}`;
    const saContext = `${namespace}-pgdeck`;

    const asAdmin = connect({ kind: 'kubeconfig', path: paths, context: 'admin' });
    expect(asAdmin.context).toBe('admin');
    await asAdmin.objects('pgdeck').apply(KUBE_RESOURCES.statefulSets, statefulSet(namespace));
    const asReader = connect({ kind: 'kubeconfig', path: paths, context: saContext });
    expect(asReader.server).toBe(cluster().plane.server);
    expect(
      (await failure(asReader.objects('pgdeck').apply(KUBE_RESOURCES.statefulSets, statefulSet(namespace)))).kind,
    ).toBe('forbidden');
    expect(
      (await asReader.objects('pgdeck').get({ resource: KUBE_RESOURCES.statefulSets, namespace, name: 'db' }))?.metadata
        ?.name,
    ).toBe('db');

    const savedEnv = process.env.KUBECONFIG;
    process.env.KUBECONFIG = paths;
    try {
      expect(connect({ kind: 'auto' }).context).toBe('admin');
      expect(connect({ kind: 'auto', context: saContext }).namespace).toBe('default');
    } finally {
      if (savedEnv === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = savedEnv;
    }

    const missing = await failure(
      Promise.resolve().then(() => connectKube({ source: { kind: 'kubeconfig', path: paths, context: 'prod' } })),
    );
    expect(missing.kind).toBe('config');
    expect(missing.field).toBe('kube.context');
    expect(missing.message).toBe(`kube.context: no context "prod" in ${paths} (it has: admin, ${saContext})`);
    const noFile = await failure(
      Promise.resolve().then(() => connectKube({ source: { kind: 'kubeconfig', path: join(dir, 'absent') } })),
    );
    expect(noFile.message).toBe(
      `kube.kubeconfig: cannot read ${join(dir, 'absent')} (ENOENT): set --kubeconfig or KUBECONFIG`,
    );
  });

  it('runs in-cluster from a ServiceAccount token, CA and namespace file, as a pod does', async () => {
    const namespace = await cluster().namespace('incluster');
    const doc = parse(await reader(namespace)) as {
      clusters: { cluster: { 'certificate-authority-data': string } }[];
      users: { user: { token: string } }[];
    };
    const root = tempDir();
    const mount = join(root, 'var/run/secrets/kubernetes.io/serviceaccount');
    mkdirSync(mount, { recursive: true });
    writeFileSync(join(mount, 'token'), doc.users[0]?.user.token ?? '');
    writeFileSync(
      join(mount, 'ca.crt'),
      Buffer.from(doc.clusters[0]?.cluster['certificate-authority-data'] ?? '', 'base64'),
    );
    writeFileSync(join(mount, 'namespace'), namespace);
    const url = new URL(cluster().plane.server);

    const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };
    delete process.env.KUBERNETES_SERVICE_HOST;
    const outside = await failure(Promise.resolve().then(() => connectKube({ source: { kind: 'in-cluster', root } })));
    expect(outside.kind).toBe('config');
    expect(outside.message).toContain('KUBERNETES_SERVICE_HOST');
    process.env.KUBERNETES_SERVICE_HOST = url.hostname;
    process.env.KUBERNETES_SERVICE_PORT = url.port;
    try {
      const kube = connect({ kind: 'in-cluster', root });
      expect(kube.namespace).toBe(namespace);
      const list = kube.informers.informer(
        { resource: KUBE_RESOURCES.statefulSets, namespace },
        new AbortController().signal,
      );
      await eventually('the in-cluster informer synced', async () => list.state().synced);
      const refused = await failure(kube.objects('pgdeck').apply(KUBE_RESOURCES.statefulSets, statefulSet(namespace)));
      expect(refused.message).toContain(`(as system:serviceaccount:${namespace}:pgdeck)`);
    } finally {
      for (const [key, value] of [
        ['KUBERNETES_SERVICE_HOST', saved.host],
        ['KUBERNETES_SERVICE_PORT', saved.port],
      ] as const)
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
    }
  });
});
