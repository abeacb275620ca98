import { execFile } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseAllDocuments, stringify } from 'yaml';
import { kubectlBinary } from '../../src/lab/procs/kubectl-binary.js';
import type { KubeTestCluster } from './kube.js';

const run = promisify(execFile);
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const MANIFESTS = join(ROOT, 'manifests');
export const OVERLAYS = ['lab', 'stage', 'prod'] as const;
export const KUBE_AGENTS = ['citus-sync', 'patroni-operator', 'autoscaler'] as const;
export const LAB_NAMESPACE = 'pgdeck-lab';

export interface ManifestObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
  };
  readonly [field: string]: unknown;
}

/** Every YAML document of a text (empty documents dropped). */
export function yamlObjects(text: string): ManifestObject[] {
  return parseAllDocuments(text)
    .map((doc) => doc.toJS() as ManifestObject | null)
    .filter((o): o is ManifestObject => o !== null && typeof o === 'object');
}

/** `kubectl kustomize` of a directory under manifests/, parsed. */
export async function kustomize(dir: string): Promise<ManifestObject[]> {
  const { stdout } = await run(kubectlBinary(), ['kustomize', join(MANIFESTS, dir)], { maxBuffer: 16 << 20 });
  return yamlObjects(stdout);
}

/** kubectl as the cluster admin, with stdin; rejects with kubectl's stderr on a non-zero exit. */
export function kubectl(cluster: KubeTestCluster, args: readonly string[], input?: string): Promise<string> {
  const all = ['--kubeconfig', cluster.plane.kubeconfigPath, ...args];
  return new Promise((resolve, reject) => {
    const child = execFile(kubectlBinary(), all, { maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      if (error === null) resolve(stdout);
      else reject(new Error(`kubectl ${args.join(' ')}: ${stderr || error.message}`));
    });
    child.stdin?.end(input ?? '');
  });
}

/** Server-side apply of objects (as YAML), as an ArgoCD sync or `pgdeck deploy` would. */
export function serverSideApply(cluster: KubeTestCluster, objects: readonly ManifestObject[]): Promise<string> {
  const text = asYaml(objects);
  return kubectl(cluster, ['apply', '--server-side', '--field-manager=pgdeck-test', '-f', '-'], text);
}

/** Objects as one multi-document YAML text, in YAML 1.1 as kubectl reads it (`yes` is quoted). */
export function asYaml(objects: readonly ManifestObject[]): string {
  return objects.map((o) => stringify(o, { version: '1.1' })).join('---\n');
}

/**
 * The lab overlay on the cluster: the Secrets the lab creates at runtime (random values, never in the
 * tree), then the CRD (waiting until it is Established), then everything else.
 */
export async function applyLabOverlay(cluster: KubeTestCluster, token: string): Promise<ManifestObject[]> {
  const objects = await kustomize('overlays/lab');
  const isCrd = (o: ManifestObject): boolean => o.kind === 'CustomResourceDefinition';
  const namespaces = objects.filter((o) => o.kind === 'Namespace');
  await serverSideApply(cluster, [...namespaces, ...objects.filter(isCrd)]);
  await kubectl(cluster, ['wait', '--for=condition=Established', '--timeout=60s', 'crd/postgresclusters.pgdeck.io']);
  await serverSideApply(cluster, [
    secret('pgdeck-api-token', { token }),
    secret('citus-credentials', { password: `pw-${Math.random().toString(36).slice(2)}` }),
  ]);
  await serverSideApply(
    cluster,
    objects.filter((o) => !isCrd(o) && o.kind !== 'Namespace'),
  );
  return objects;
}

function secret(name: string, stringData: Record<string, string>): ManifestObject {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: LAB_NAMESPACE }, stringData };
}

/** Every file under `dir` whose name ends with one of `suffixes`, skipping node_modules, dist and .git. */
export function filesUnder(dir: string, suffixes: readonly string[]): string[] {
  const found: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name === '.git') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...filesUnder(path, suffixes));
    else if (suffixes.some((s) => name.endsWith(s))) found.push(path);
  }
  return found;
}
