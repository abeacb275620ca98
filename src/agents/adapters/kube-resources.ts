/**
 * The adapter's own small view of Kubernetes objects and resources: the rest of pgdeck reads these
 * types, never @kubernetes/client-node's. Objects are the API server's JSON as it came (timestamps
 * stay RFC 3339 strings).
 */
export interface KubeOwnerReference {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly uid: string;
  readonly controller?: boolean;
  readonly blockOwnerDeletion?: boolean;
}

export interface KubeObjectMeta {
  readonly name?: string;
  readonly generateName?: string;
  readonly namespace?: string;
  readonly uid?: string;
  readonly resourceVersion?: string;
  readonly generation?: number;
  readonly creationTimestamp?: string;
  readonly deletionTimestamp?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly ownerReferences?: readonly KubeOwnerReference[];
  readonly finalizers?: readonly string[];
}

export interface KubeObject {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: KubeObjectMeta;
  readonly [field: string]: unknown;
}

/** One REST resource: what the paths, RBAC verbs and request counts are named after. */
export interface KubeResource {
  /** '' for the core group. */
  readonly group: string;
  readonly version: string;
  /** The plural resource name (`statefulsets`), as RBAC rules and request counts name it. */
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
}

const resource = (group: string, version: string, plural: string, kind: string, namespaced = true): KubeResource => ({
  group,
  version,
  plural,
  kind,
  namespaced,
});

/** The built-in resources pgdeck reads or writes; custom resources are described the same way. */
export const KUBE_RESOURCES = {
  pods: resource('', 'v1', 'pods', 'Pod'),
  services: resource('', 'v1', 'services', 'Service'),
  endpoints: resource('', 'v1', 'endpoints', 'Endpoints'),
  configMaps: resource('', 'v1', 'configmaps', 'ConfigMap'),
  secrets: resource('', 'v1', 'secrets', 'Secret'),
  podTemplates: resource('', 'v1', 'podtemplates', 'PodTemplate'),
  namespaces: resource('', 'v1', 'namespaces', 'Namespace', false),
  nodes: resource('', 'v1', 'nodes', 'Node', false),
  statefulSets: resource('apps', 'v1', 'statefulsets', 'StatefulSet'),
  deployments: resource('apps', 'v1', 'deployments', 'Deployment'),
  leases: resource('coordination.k8s.io', 'v1', 'leases', 'Lease'),
  events: resource('events.k8s.io', 'v1', 'events', 'Event'),
  serviceAccounts: resource('', 'v1', 'serviceaccounts', 'ServiceAccount'),
  persistentVolumeClaims: resource('', 'v1', 'persistentvolumeclaims', 'PersistentVolumeClaim'),
  persistentVolumes: resource('', 'v1', 'persistentvolumes', 'PersistentVolume', false),
  roles: resource('rbac.authorization.k8s.io', 'v1', 'roles', 'Role'),
  roleBindings: resource('rbac.authorization.k8s.io', 'v1', 'rolebindings', 'RoleBinding'),
  podDisruptionBudgets: resource('policy', 'v1', 'poddisruptionbudgets', 'PodDisruptionBudget'),
  customResourceDefinitions: resource(
    'apiextensions.k8s.io',
    'v1',
    'customresourcedefinitions',
    'CustomResourceDefinition',
    false,
  ),
} as const satisfies Record<string, KubeResource>;

export function apiVersionOf(r: KubeResource): string {
  return r.group === '' ? r.version : `${r.group}/${r.version}`;
}

/** `statefulsets.apps`, as the API server's messages name a resource. */
export function qualifiedName(r: KubeResource): string {
  return r.group === '' ? r.plural : `${r.plural}.${r.group}`;
}

/** Where an object or a collection lives. `namespace` is ignored for cluster-scoped resources. */
export interface KubeTarget {
  readonly resource: KubeResource;
  readonly namespace?: string;
  readonly name?: string;
  readonly subresource?: 'status' | 'scale';
}

export function pathOf(target: KubeTarget): string {
  const { resource: r, namespace, name, subresource } = target;
  const parts = [r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`];
  if (r.namespaced && namespace !== undefined) parts.push('namespaces', encodeURIComponent(namespace));
  parts.push(r.plural);
  if (name !== undefined) parts.push(encodeURIComponent(name));
  if (subresource !== undefined) parts.push(subresource);
  return parts.join('/');
}

/** The resource as RBAC and the request counter name it: `statefulsets`, `statefulsets/scale`. */
export function counterResource(target: KubeTarget): string {
  return target.subresource === undefined ? target.resource.plural : `${target.resource.plural}/${target.subresource}`;
}

/** The informer cache's key: `namespace/name`, or `name` for cluster-scoped objects. */
export function objectKey(object: KubeObject): string {
  const namespace = object.metadata?.namespace;
  const name = object.metadata?.name ?? '';
  return namespace === undefined || namespace === '' ? name : `${namespace}/${name}`;
}
