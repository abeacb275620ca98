import { AppsV1Api } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { allowed, granted, JOBS, UNIVERSE, VERBS, type Access } from '../helpers/agent-rbac.js';
import { eventually, withKube } from '../helpers/kube.js';
import {
  applyLabOverlay,
  asYaml,
  KUBE_AGENTS,
  kubectl,
  LAB_NAMESPACE,
  type ManifestObject,
} from '../helpers/manifests.js';

const cluster = withKube({ nodes: 2 });
let objects: ManifestObject[] = [];
const OTHER = 'elsewhere';

beforeAll(async () => {
  objects = await applyLabOverlay(cluster(), 'lab-token-made-at-runtime-0123456789');
  await kubectl(cluster(), ['create', 'namespace', OTHER]);
}, 180_000);

const describeAccess = (a: Access): string =>
  `${a.group === '' ? 'core' : a.group}/${a.resource}${a.subresource === undefined ? '' : `/${a.subresource}`}${a.name === undefined ? '' : `:${a.name}`}`;

/** Every verb on every resource of the universe the API server answers otherwise than the job says. */
async function mismatches(
  account: { namespace: string; name: string },
  jobs: (typeof JOBS)[string],
  namespace: string,
): Promise<string[]> {
  const checks = UNIVERSE.flatMap((access) => VERBS.map((verb) => ({ access, verb })));
  const answers = await Promise.all(checks.map((c) => allowed(cluster(), account, c.access, c.verb, namespace)));
  return checks.flatMap(({ access, verb }, i) => {
    const expected = granted(jobs!, access, verb);
    const what = `${verb} ${describeAccess(access)} in ${namespace}`;
    return answers[i] === expected ? [] : [`${expected ? 'refused' : 'allowed'}: ${what}`];
  });
}

describe('the lab overlay on a real control plane', () => {
  it('every object applies with server-side apply and is there', async () => {
    expect(objects.length).toBeGreaterThan(30);
    const names = objects.map((o) => `${o.kind.toLowerCase()}/${o.metadata.name}`);
    const out = await kubectl(cluster(), ['get', '-n', LAB_NAMESPACE, '-f', '-', '-o', 'name'], asYaml(objects));
    const got = out
      .trim()
      .split('\n')
      .map((line) => {
        const [resource, name] = line.split('/');
        return `${resource!.split('.')[0]}/${name}`;
      });
    expect(got.sort()).toEqual(names.sort());
  });

  it("the agents' Deployments and the Citus StatefulSets become Ready on kwok nodes", async () => {
    const apps = cluster().kubeConfig.makeApiClient(AppsV1Api);
    for (const agent of KUBE_AGENTS) {
      const d = await eventually(
        `Deployment pgdeck-${agent} ready`,
        async () => {
          const got = await apps.readNamespacedDeployment({ namespace: LAB_NAMESPACE, name: `pgdeck-${agent}` });
          return (got.status?.readyReplicas ?? 0) === got.spec?.replicas && (got.spec?.replicas ?? 0) > 0 && got;
        },
        90_000,
      );
      expect(d.status?.availableReplicas).toBe(d.spec?.replicas);
    }
    for (const name of ['citus-coordinator', 'citus-worker'])
      await eventually(
        `StatefulSet ${name} ready`,
        async () => {
          const s = await apps.readNamespacedStatefulSet({ namespace: LAB_NAMESPACE, name });
          return (s.status?.readyReplicas ?? 0) === s.spec?.replicas;
        },
        90_000,
      );
  }, 200_000);

  it.each(KUBE_AGENTS)('the ServiceAccount of %s may do exactly its job, in its namespace', async (agent) => {
    const account = { namespace: LAB_NAMESPACE, name: `pgdeck-${agent}` };
    expect(await mismatches(account, JOBS[agent]!, LAB_NAMESPACE)).toEqual([]);
  });

  it.each(KUBE_AGENTS)(
    'the ServiceAccount of %s may do in another namespace only what is cluster-wide',
    async (agent) => {
      const account = { namespace: LAB_NAMESPACE, name: `pgdeck-${agent}` };
      const clusterWide = agent === 'patroni-operator' ? JOBS[agent]!.filter(([a]) => a.resource !== 'leases') : [];
      expect(await mismatches(account, clusterWide, OTHER)).toEqual([]);
    },
  );
});
