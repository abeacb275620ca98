import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { KubeObject } from '../agents/adapters/kube.js';
import { kustomizeBuild } from '../agents/adapters/kubectl.js';
import { postgresClusterCrd } from '../agents/patroni-operator/crd.js';
import { checkoutFile } from '../checkout-file.js';
import { yaml } from '../yaml-on-demand.js';
import { UsageError } from './exit.js';

export const OVERLAYS = ['lab', 'stage', 'prod'] as const;
export type Overlay = (typeof OVERLAYS)[number];
export type DeployVerb = 'install' | 'uninstall' | 'deploy' | 'undeploy';

export function parseOverlay(value: unknown): Overlay {
  const found = OVERLAYS.find((o) => o === value);
  if (found === undefined) throw new UsageError(`--overlay: expected ${OVERLAYS.join(', ')}, got "${String(value)}"`);
  return found;
}

export interface ObjectSource {
  readonly verb: DeployVerb;
  readonly sample: boolean;
  readonly overlay: Overlay;
  readonly file?: string;
}

/**
 * What a verb applies or deletes, in apply order: `--file` as given; else the CRD generated from the
 * source (install), the sample of manifests/components/sample (`--sample`), or the overlay rendered by
 * `kubectl kustomize` (`PGDECK_KUBECTL`, else the kubectl on PATH).
 */
export async function objectsFor(source: ObjectSource): Promise<KubeObject[]> {
  if (source.file !== undefined) return parseObjects(readManifest(source.file), source.file);
  if (source.verb === 'install' || source.verb === 'uninstall') return [postgresClusterCrd() as KubeObject];
  if (source.sample) {
    const sample = manifestPath('components/sample/postgrescluster.yaml');
    return parseObjects(readManifest(sample), sample);
  }
  const dir = manifestPath(`overlays/${source.overlay}`);
  if (!existsSync(dir)) throw new UsageError(`--overlay: no overlay at ${dir}`);
  return parseObjects(await kustomizeBuild(dir, process.env.PGDECK_KUBECTL || 'kubectl'), `overlay ${source.overlay}`);
}

/** A path under the manifests/ of the checkout or package this module runs from (src/ or dist/). */
function manifestPath(relative: string): string {
  const root = dirname(checkoutFile('package.json') ?? process.cwd());
  return join(root, 'manifests', relative);
}

function readManifest(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`--file: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** Multi-document YAML into objects; each needs apiVersion, kind and metadata.name. */
export function parseObjects(text: string, where: string): KubeObject[] {
  const objects: KubeObject[] = [];
  for (const [index, doc] of yaml().parseAllDocuments(text).entries()) {
    if (doc.errors.length > 0)
      throw new UsageError(`--file: ${where}, document ${index + 1}: ${doc.errors[0]!.message.split('\n')[0]}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    const object = value as KubeObject;
    if (typeof object.apiVersion !== 'string' || typeof object.kind !== 'string' || !object.metadata?.name)
      throw new UsageError(`--file: ${where}, document ${index + 1}: needs apiVersion, kind and metadata.name`);
    objects.push(object);
  }
  if (objects.length === 0) throw new UsageError(`--file: ${where} holds no objects`);
  return objects;
}
