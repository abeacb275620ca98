import { PgdeckError } from '../kernel/errors.js';
import { KubeApiError } from './kube-errors.js';
import type { KubeResource } from './kube-resources.js';
import type { KubeTransport } from './kube-transport.js';

interface ResourceList {
  readonly resources?: readonly {
    readonly name: string;
    readonly kind: string;
    readonly namespaced: boolean;
  }[];
}

/**
 * Which REST resource serves an `apiVersion` and `kind`, from the API server's discovery documents
 * (one request per group version, remembered). A kind the server does not serve is `not-found`.
 */
export class KubeDiscovery {
  private readonly lists = new Map<string, ResourceList>();

  constructor(private readonly transport: KubeTransport) {}

  async resolve(apiVersion: string, kind: string, options: { readonly fresh?: boolean } = {}): Promise<KubeResource> {
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/', 2) : ['', apiVersion];
    if (options.fresh === true) this.lists.delete(apiVersion);
    let list = this.lists.get(apiVersion);
    if (list === undefined) {
      const path = group === '' ? `/api/${version}` : `/apis/${group}/${version}`;
      try {
        list = await this.transport.request<ResourceList>({ verb: 'get', resource: 'discovery', method: 'GET', path });
      } catch (error) {
        if (error instanceof KubeApiError && error.status === 404) list = { resources: [] };
        else throw error;
      }
      this.lists.set(apiVersion, list);
    }
    const found = (list.resources ?? []).find((r) => r.kind === kind && !r.name.includes('/'));
    if (found === undefined)
      throw new PgdeckError('not-found', `the API server serves no ${kind} in ${apiVersion} (is its CRD installed?)`);
    return { group: group ?? '', version: version ?? '', plural: found.name, kind, namespaced: found.namespaced };
  }
}
