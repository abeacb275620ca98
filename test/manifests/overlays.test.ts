import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { postgresClusterCrd } from '../../src/agents/patroni-operator/crd.js';
import { AGENTS } from '../../src/agents/registry.js';
import { loadConfig } from '../../src/config.js';
import { KUBE_AGENTS, kustomize, OVERLAYS, type ManifestObject } from '../helpers/manifests.js';

type Container = {
  args: string[];
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  ports: { name: string; containerPort: number }[];
  readinessProbe: { httpGet: { path: string; port: string } };
  livenessProbe: { httpGet: { path: string; port: string } };
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  securityContext: Record<string, unknown>;
  volumeMounts: { name: string; mountPath: string }[];
};
type PodSpec = {
  serviceAccountName: string;
  securityContext: Record<string, unknown>;
  containers: Container[];
  volumes: { name: string; secret?: { secretName: string; items: { key: string }[] }; configMap?: { name: string } }[];
};
const spec = <T>(o: ManifestObject): T => o.spec as T;
const built: Record<string, ManifestObject[]> = {};
const dir = mkdtempSync(join(tmpdir(), 'pgdeck-manifests-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  for (const overlay of OVERLAYS) built[overlay] = await kustomize(`overlays/${overlay}`);
});
const one = (objects: ManifestObject[], kind: string, name: string): ManifestObject => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (found === undefined) throw new Error(`no ${kind} ${name}`);
  return found;
};

describe.each(OVERLAYS)('kubectl kustomize manifests/overlays/%s', (overlay) => {
  const objects = (): ManifestObject[] => built[overlay]!;

  it('builds one namespace for everything namespaced, and puts each object in its sync wave', () => {
    const namespaces = new Set(
      objects().flatMap((o) => (o.metadata.namespace === undefined ? [] : [o.metadata.namespace])),
    );
    expect([...namespaces]).toEqual([overlay === 'lab' ? 'pgdeck-lab' : 'pgdeck']);
    const wave = (o: ManifestObject): string | undefined => o.metadata.annotations?.['argocd.argoproj.io/sync-wave'];
    for (const o of objects()) {
      const component = o.metadata.labels?.['app.kubernetes.io/component'] ?? '';
      const expected = (KUBE_AGENTS as readonly string[]).includes(component)
        ? '1'
        : o.kind === 'PostgresCluster'
          ? '2'
          : '0';
      expect(`${o.kind}/${o.metadata.name} wave ${wave(o)}`).toBe(`${o.kind}/${o.metadata.name} wave ${expected}`);
    }
  });

  it("labels every agent object and serves each agent's API on a Service port named api", () => {
    for (const agent of KUBE_AGENTS) {
      const mine = objects().filter((o) => o.metadata.labels?.['app.kubernetes.io/component'] === agent);
      expect(mine.map((o) => o.kind).sort()).toEqual(
        agent === 'patroni-operator'
          ? ['ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'Deployment', 'NetworkPolicy', 'PodDisruptionBudget']
              .concat(['Role', 'RoleBinding', 'Service', 'ServiceAccount'])
              .sort()
          : ['ConfigMap', 'Deployment', 'NetworkPolicy', 'PodDisruptionBudget', 'Role', 'RoleBinding', 'Service']
              .concat(['ServiceAccount'])
              .sort(),
      );
      for (const o of mine)
        expect(o.metadata.labels).toMatchObject({
          'app.kubernetes.io/name': 'pgdeck',
          'app.kubernetes.io/part-of': 'pgdeck',
        });
      const leaseNames = mine
        .filter((o) => o.kind === 'Role')
        .flatMap((o) => o.rules as { resources: string[]; resourceNames?: string[] }[])
        .filter((r) => r.resources.includes('leases'))
        .flatMap((r) => r.resourceNames ?? []);
      expect(leaseNames).toEqual(AGENTS[agent]!.leaderElection === 'kube-lease' ? [`pgdeck-${agent}`] : []);
      const service = one(objects(), 'Service', `pgdeck-${agent}`);
      expect(service.metadata.labels?.['pgdeck.io/agent']).toBe(agent);
      expect(spec<{ ports: { name: string; port: number }[] }>(service).ports).toEqual([
        { name: 'api', port: 8008, targetPort: 'api' },
      ]);
    }
    const discovered = objects().filter(
      (o) => o.kind === 'Service' && o.metadata.labels?.['app.kubernetes.io/part-of'] === 'pgdeck',
    );
    expect(discovered.map((s) => s.metadata.labels?.['app.kubernetes.io/component']).sort()).toEqual(
      [...KUBE_AGENTS].sort(),
    );
  });

  it('runs each agent headless: replicas by leader election, probes, limits, non-root, token from the Secret', () => {
    for (const agent of KUBE_AGENTS) {
      const deployment = spec<{ replicas: number; template: { spec: PodSpec } }>(
        one(objects(), 'Deployment', `pgdeck-${agent}`),
      );
      expect(deployment.replicas).toBe(AGENTS[agent]!.leaderElection === 'kube-lease' ? 2 : 1);
      const pod = deployment.template.spec;
      expect(pod.serviceAccountName).toBe(`pgdeck-${agent}`);
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532 });
      const [c] = pod.containers;
      expect(c!.args.slice(0, 2)).toEqual(['--agent', agent]);
      expect(c!.ports).toEqual([{ name: 'api', containerPort: 8008 }]);
      expect(c!.readinessProbe.httpGet).toEqual({ path: '/ready', port: 'api' });
      expect(c!.livenessProbe.httpGet).toEqual({ path: '/health', port: 'api' });
      expect(Object.keys(c!.resources.requests).sort()).toEqual(['cpu', 'memory']);
      expect(Object.keys(c!.resources.limits).sort()).toEqual(['cpu', 'memory']);
      expect(c!.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
      const tokenVolume = pod.volumes.find((v) => v.secret?.secretName === 'pgdeck-api-token');
      expect(tokenVolume?.secret?.items).toEqual([{ key: 'token', path: 'token' }]);
      const mount = c!.volumeMounts.find((m) => m.name === tokenVolume?.name);
      expect(c!.env?.find((e) => e.name === 'PGDECK_TOKEN_FILE')?.value).toBe(`${mount?.mountPath}/token`);
      for (const kind of ['PodDisruptionBudget', 'NetworkPolicy']) {
        const selector = spec<{ selector?: unknown; podSelector?: unknown }>(one(objects(), kind, `pgdeck-${agent}`));
        expect(selector.selector ?? selector.podSelector).toEqual({
          matchLabels: { 'app.kubernetes.io/name': 'pgdeck', 'app.kubernetes.io/component': agent },
        });
      }
    }
  });

  it("mounts a config file that pgdeck's own loader accepts for the agent, with the pod's environment", () => {
    for (const agent of KUBE_AGENTS) {
      const pod = spec<{ template: { spec: PodSpec } }>(one(objects(), 'Deployment', `pgdeck-${agent}`)).template.spec;
      const configMap = pod.volumes.find((v) => v.configMap !== undefined)?.configMap?.name ?? '';
      const data = (one(objects(), 'ConfigMap', configMap).data as Record<string, string>)['config.yaml']!;
      expect(pod.containers[0]!.args).toEqual(['--agent', agent, '--config', '/etc/pgdeck/config.yaml']);
      const file = join(dir, `${overlay}-${agent}.yaml`);
      const tokenFile = join(dir, 'token');
      writeFileSync(file, data);
      writeFileSync(tokenFile, 'a-test-token-of-32-characters-xx');
      const env = { POD_NAMESPACE: 'pgdeck', POD_NAME: `pgdeck-${agent}-0`, PGDECK_TOKEN_FILE: tokenFile };
      const loaded = loadConfig({ flags: {}, env, configFile: file, definitions: AGENTS, agent });
      expect(loaded.global.listen).toBe('0.0.0.0:8008');
      expect(loaded.token).toBe('a-test-token-of-32-characters-xx');
      expect(Object.keys(loaded.agents)).toEqual([agent]);
      expect(parse(data)).not.toHaveProperty('token');
    }
  });

  it('takes the CRD as generated from the source, and leaves the failover agent out', () => {
    const crd = one(objects(), 'CustomResourceDefinition', 'postgresclusters.pgdeck.io');
    expect(crd.spec).toEqual(postgresClusterCrd().spec);
    expect(objects().filter((o) => o.metadata.labels?.['app.kubernetes.io/component'] === 'failover')).toEqual([]);
  });

  it('holds no Secret; stage and prod seal the token and the database credentials', () => {
    expect(objects().filter((o) => o.kind === 'Secret')).toEqual([]);
    const sealed = objects().filter((o) => o.kind === 'SealedSecret');
    if (overlay === 'lab') {
      expect(sealed).toEqual([]);
      return;
    }
    const keys = sealed.map((s) => [s.metadata.name, Object.keys(spec<{ encryptedData: object }>(s).encryptedData)]);
    expect(keys.sort()).toEqual([
      ['citus-credentials', ['password']],
      ['pgdeck-api-token', ['token']],
      ['pgdeck-redis', ['password']],
    ]);
    for (const s of sealed)
      for (const value of Object.values(spec<{ encryptedData: Record<string, string> }>(s).encryptedData))
        expect(value).toMatch(/^PLACEHOLDER-seal-/);
  });
});
