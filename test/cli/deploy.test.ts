import { ApiextensionsV1Api, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runDeploy, type DeployOptions } from '../../src/cli/deploy.js';
import { orNotFound, withKube } from '../helpers/kube.js';

const FIXTURE = 'test/fixtures/deploy/objects.yaml';
const cluster = withKube({ nodes: 1 });
let namespace: string;

async function deploy(options: Partial<DeployOptions> & Pick<DeployOptions, 'verb'>): Promise<string[]> {
  const lines: string[] = [];
  const code = await runDeploy(
    {
      sample: false,
      dryRun: false,
      overlay: 'lab',
      kubeconfig: cluster().plane.kubeconfigPath,
      namespace,
      ...options,
    },
    (line) => lines.push(line),
  );
  expect(code).toBe(0);
  return lines;
}

/** The -/+ lines of diffs, without the ---/+++ headers. */
function changedLines(output: readonly string[]): string[] {
  return output
    .join('\n')
    .split('\n')
    .filter((line) => /^[-+]/.test(line) && !/^(---|\+\+\+) /.test(line));
}

const core = (): CoreV1Api => cluster().kubeConfig.makeApiClient(CoreV1Api);
const configMap = () => orNotFound(core().readNamespacedConfigMap({ namespace, name: 'pgdeck-test-config' }));

beforeAll(async () => {
  namespace = await cluster().namespace('deploy');
}, 180_000);

describe('pgdeck install | deploy | undeploy | uninstall on a real control plane', () => {
  it('install applies the CRD generated from the source and waits until it is Established', async () => {
    const output = await deploy({ verb: 'install' });
    expect(output).toEqual(['CustomResourceDefinition postgresclusters.pgdeck.io created']);
    const crd = await cluster()
      .kubeConfig.makeApiClient(ApiextensionsV1Api)
      .readCustomResourceDefinition({ name: 'postgresclusters.pgdeck.io' });
    expect(crd.status?.conditions?.find((c) => c.type === 'Established')?.status).toBe('True');
    expect(crd.metadata?.managedFields?.map((f) => f.manager)).toContain('pgdeck');
  });

  it('deploy --dry-run prints what would be created and changes nothing live', async () => {
    const output = await deploy({ verb: 'deploy', file: FIXTURE, dryRun: true });
    const text = output.join('\n');
    expect(text).toContain(`+++ ConfigMap ${namespace}/pgdeck-test-config (applied)`);
    expect(changedLines(output)).toEqual(expect.arrayContaining(['+  logLevel: info', '+    - name: api']));
    expect(text).not.toMatch(/managedFields|resourceVersion|uid:/);
    expect(await configMap()).toBeUndefined();
    expect(await orNotFound(core().readNamespacedService({ namespace, name: 'pgdeck-test' }))).toBeUndefined();
  });

  it('deploy applies every object; a second dry run prints no diff', async () => {
    expect(await deploy({ verb: 'deploy', file: FIXTURE })).toEqual([
      `ServiceAccount ${namespace}/pgdeck-test created`,
      `ConfigMap ${namespace}/pgdeck-test-config created`,
      `Service ${namespace}/pgdeck-test created`,
    ]);
    expect((await configMap())?.data).toEqual({ logLevel: 'info', listen: '0.0.0.0:8008' });
    expect(await deploy({ verb: 'deploy', file: FIXTURE, dryRun: true })).toEqual([]);
    expect(await deploy({ verb: 'deploy', file: FIXTURE })).toContain(
      `ConfigMap ${namespace}/pgdeck-test-config unchanged`,
    );
  });

  it('a change in the file shows exactly that field in the dry-run diff', async () => {
    const changed = join(mkdtempSync(join(tmpdir(), 'pgdeck-deploy-')), 'objects.yaml');
    writeFileSync(changed, readFileSync(FIXTURE, 'utf8').replace('logLevel: info', 'logLevel: debug'));
    const before = (await configMap())?.metadata?.resourceVersion;
    const output = await deploy({ verb: 'deploy', file: changed, dryRun: true });
    expect(output).toHaveLength(1);
    expect(output[0]).toContain(`--- ConfigMap ${namespace}/pgdeck-test-config (live)`);
    expect(changedLines(output)).toEqual(['-  logLevel: info', '+  logLevel: debug']);
    expect((await configMap())?.metadata?.resourceVersion).toBe(before);
  });

  it('deploy --sample applies the sample PostgresCluster; undeploy --sample deletes it', async () => {
    expect(await deploy({ verb: 'deploy', sample: true })).toEqual([`PostgresCluster ${namespace}/sample created`]);
    const custom = cluster().kubeConfig.makeApiClient(CustomObjectsApi);
    const get = () =>
      orNotFound(
        custom.getNamespacedCustomObject({
          group: 'pgdeck.io',
          version: 'v1alpha1',
          namespace,
          plural: 'postgresclusters',
          name: 'sample',
        }),
      );
    expect(await get()).toBeDefined();
    expect(await deploy({ verb: 'undeploy', sample: true })).toEqual([`PostgresCluster ${namespace}/sample deleted`]);
    expect(await get()).toBeUndefined();
  });

  it('undeploy deletes in reverse order and waits until each object is gone', async () => {
    expect(await deploy({ verb: 'undeploy', file: FIXTURE })).toEqual([
      `Service ${namespace}/pgdeck-test deleted`,
      `ConfigMap ${namespace}/pgdeck-test-config deleted`,
      `ServiceAccount ${namespace}/pgdeck-test deleted`,
    ]);
    expect(await configMap()).toBeUndefined();
    expect(await deploy({ verb: 'undeploy', file: FIXTURE })).toContain(
      `ConfigMap ${namespace}/pgdeck-test-config not found`,
    );
  });

  it('uninstall removes the CRD', async () => {
    expect(await deploy({ verb: 'uninstall' })).toEqual([
      'CustomResourceDefinition postgresclusters.pgdeck.io deleted',
    ]);
    const api = cluster().kubeConfig.makeApiClient(ApiextensionsV1Api);
    expect(await orNotFound(api.readCustomResourceDefinition({ name: 'postgresclusters.pgdeck.io' }))).toBeUndefined();
  });

  it('a bad flag exits 2 with one line', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', 'deploy', '--overlay', 'dev'], {
      encoding: 'utf8',
      env: { ...process.env, KUBECONFIG: cluster().plane.kubeconfigPath },
      timeout: 60_000,
    });
    expect(result.stderr.trimEnd().split('\n')).toEqual(['pgdeck: --overlay: expected lab, stage, prod, got "dev"']);
    expect(result.status).toBe(2);
  });
});
