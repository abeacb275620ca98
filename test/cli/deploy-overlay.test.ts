import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { runDeploy, type DeployOptions } from '../../src/cli/deploy.js';
import { kubectlBinary } from '../../src/lab/procs/kubectl-binary.js';
import { orNotFound, withKube } from '../helpers/kube.js';
import { kustomize, LAB_NAMESPACE, type ManifestObject } from '../helpers/manifests.js';

// The user's path: `pgdeck deploy --overlay lab` renders manifests/overlays/lab with kubectl kustomize
// and applies every object server-side, in order, on a fresh control plane.
const cluster = withKube({ nodes: 1 });
let rendered: ManifestObject[];

async function deploy(options: Partial<DeployOptions> & Pick<DeployOptions, 'verb'>): Promise<string[]> {
  const lines: string[] = [];
  const code = await runDeploy(
    { sample: false, dryRun: false, overlay: 'lab', kubeconfig: cluster().plane.kubeconfigPath, ...options },
    (line) => lines.push(line),
  );
  expect(code).toBe(0);
  return lines;
}

beforeAll(async () => {
  process.env.PGDECK_KUBECTL = kubectlBinary();
  rendered = await kustomize('overlays/lab');
}, 180_000);

describe('pgdeck deploy --overlay lab on a real control plane', () => {
  it('applies every object of the overlay; a second dry run finds nothing to change', async () => {
    const output = await deploy({ verb: 'deploy' });
    expect(output).toHaveLength(rendered.length);
    expect(output.every((line) => line.endsWith(' created'))).toBe(true);
    const apps = cluster().kubeConfig.makeApiClient(AppsV1Api);
    const deployments = await apps.listNamespacedDeployment({ namespace: LAB_NAMESPACE });
    const expected = rendered.filter((o) => o.kind === 'Deployment').map((o) => o.metadata.name);
    expect(deployments.items.map((d) => d.metadata?.name).sort()).toEqual([...expected].sort());
    expect(await deploy({ verb: 'deploy', dryRun: true })).toEqual([]);
  });

  it('undeploy removes them again, the namespace last', async () => {
    const output = await deploy({ verb: 'undeploy' });
    expect(output).toHaveLength(rendered.length);
    expect(output.at(-1)).toBe(`Namespace ${LAB_NAMESPACE} deleted`);
    const core = cluster().kubeConfig.makeApiClient(CoreV1Api);
    expect(await orNotFound(core.readNamespace({ name: LAB_NAMESPACE }))).toBeUndefined();
  });
});
