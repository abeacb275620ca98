import { connectKube, type KubeClient, type KubeObject, type KubeResource } from '../agents/adapters/kube.js';
import { PgdeckError } from '../agents/kernel/errors.js';
import { objectsFor, type ObjectSource } from './deploy-objects.js';
import { objectDiff } from './object-diff.js';

export interface DeployOptions extends ObjectSource {
  readonly dryRun: boolean;
  readonly context?: string;
  readonly namespace?: string;
  /** $KUBECONFIG or ~/.kube/config when undefined. */
  readonly kubeconfig?: string;
  /** How long `undeploy` waits for each object to be gone, and `install` for a CRD to be Established. */
  readonly waitMs?: number;
}

const FIELD_MANAGER = 'pgdeck';
const POLL_MS = 200;

/** install | deploy apply (server-side, field manager `pgdeck`); uninstall | undeploy delete in reverse order and wait. */
export async function runDeploy(options: DeployOptions, write: (line: string) => void): Promise<number> {
  const objects = await objectsFor(options);
  const kube = connectKube({
    source: {
      kind: options.kubeconfig === undefined ? 'auto' : 'kubeconfig',
      ...(options.kubeconfig === undefined ? {} : { path: options.kubeconfig }),
      ...(options.context === undefined ? {} : { context: options.context }),
    },
  });
  const run = new DeployRun(kube, options.namespace ?? kube.namespace, options.waitMs ?? 120_000, write);
  try {
    if (options.verb === 'install' || options.verb === 'deploy')
      for (const object of objects) await run.apply(object, options.dryRun);
    else for (const object of [...objects].reverse()) await run.remove(object, options.dryRun);
    return 0;
  } finally {
    await kube.close();
  }
}

class DeployRun {
  constructor(
    private readonly kube: KubeClient,
    private readonly namespace: string,
    private readonly waitMs: number,
    private readonly write: (line: string) => void,
  ) {}

  async apply(object: KubeObject, dryRun: boolean): Promise<void> {
    const { resource, placed, label } = await this.locate(object);
    const objects = this.kube.objects(FIELD_MANAGER);
    const live = await objects.get(this.target(resource, placed));
    const applied = await objects.apply(resource, placed, { dryRun });
    if (dryRun) {
      const diff = objectDiff(label, live, applied);
      if (diff !== '') this.write(diff);
      return;
    }
    const changed =
      live === undefined
        ? 'created'
        : live.metadata?.resourceVersion === applied.metadata?.resourceVersion
          ? 'unchanged'
          : 'configured';
    this.write(`${label} ${changed}`);
    if (resource.kind === 'CustomResourceDefinition') await this.established(placed);
  }

  async remove(object: KubeObject, dryRun: boolean): Promise<void> {
    let located;
    try {
      located = await this.locate(object);
    } catch (error) {
      // its CRD is gone already, and with it every object of the kind
      if (error instanceof PgdeckError && error.kind === 'not-found')
        return this.write(`${object.kind} ${object.metadata?.name} not found`);
      throw error;
    }
    const { resource, placed, label } = located;
    const objects = this.kube.objects(FIELD_MANAGER);
    const target = this.target(resource, placed);
    if (dryRun) {
      const live = await objects.get(target);
      this.write(live === undefined ? `${label} not found` : `${label} would be deleted`);
      return;
    }
    if (!(await objects.delete(target))) return this.write(`${label} not found`);
    await this.until(`${label} to be gone`, async () => (await objects.get(target)) === undefined);
    this.write(`${label} deleted`);
  }

  private async locate(object: KubeObject): Promise<{ resource: KubeResource; placed: KubeObject; label: string }> {
    const apiVersion = object.apiVersion ?? '';
    const kind = object.kind ?? '';
    let resource: KubeResource;
    try {
      resource = await this.kube.resolve(apiVersion, kind);
    } catch (error) {
      if (!(error instanceof PgdeckError && error.kind === 'not-found')) throw error;
      resource = await this.kube.resolve(apiVersion, kind, { fresh: true });
    }
    const namespace = resource.namespaced ? (object.metadata?.namespace ?? this.namespace) : undefined;
    const placed: KubeObject = {
      ...object,
      metadata: { ...object.metadata, ...(namespace === undefined ? {} : { namespace }) },
    };
    const name = object.metadata?.name ?? '';
    return { resource, placed, label: `${kind} ${namespace === undefined ? name : `${namespace}/${name}`}` };
  }

  private target(
    resource: KubeResource,
    object: KubeObject,
  ): { resource: KubeResource; name: string; namespace?: string } {
    const namespace = object.metadata?.namespace;
    return { resource, name: object.metadata?.name ?? '', ...(namespace === undefined ? {} : { namespace }) };
  }

  private async established(crd: KubeObject): Promise<void> {
    const objects = this.kube.objects(FIELD_MANAGER);
    const resource = await this.kube.resolve('apiextensions.k8s.io/v1', 'CustomResourceDefinition');
    await this.until(`CustomResourceDefinition ${crd.metadata?.name} to be Established`, async () => {
      const live = await objects.get<KubeObject & { status?: { conditions?: { type: string; status: string }[] } }>({
        resource,
        name: crd.metadata?.name ?? '',
      });
      return (live?.status?.conditions ?? []).some((c) => c.type === 'Established' && c.status === 'True');
    });
  }

  private async until(what: string, check: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + this.waitMs;
    while (!(await check())) {
      if (Date.now() > deadline)
        throw new PgdeckError('timeout', `timed out after ${this.waitMs} ms waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }
}
