import { AuthorizationV1Api } from '@kubernetes/client-node';
import type { KubeTestCluster } from './kube.js';

/** One resource as RBAC names it: API group, resource, optional subresource and object name. */
export interface Access {
  readonly group: string;
  readonly resource: string;
  readonly subresource?: string;
  readonly name?: string;
}
export const VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'] as const;

const core = (resource: string, subresource?: string): Access => ({
  group: '',
  resource,
  ...(subresource === undefined ? {} : { subresource }),
});
const group = (g: string, resource: string, subresource?: string): Access => ({
  group: g,
  resource,
  ...(subresource === undefined ? {} : { subresource }),
});
const lease = (name?: string): Access => ({
  group: 'coordination.k8s.io',
  resource: 'leases',
  ...(name === undefined ? {} : { name }),
});

/** What the reviews ask about: every resource an agent touches, and the ones next to them. */
export const UNIVERSE: readonly Access[] = [
  core('pods'),
  core('pods', 'exec'),
  core('pods', 'status'),
  core('secrets'),
  core('configmaps'),
  core('services'),
  core('endpoints'),
  core('serviceaccounts'),
  core('serviceaccounts', 'token'),
  core('persistentvolumeclaims'),
  core('events'),
  lease(),
  lease('pgdeck-citus-sync'),
  lease('pgdeck-patroni-operator'),
  lease('kube-controller-manager'),
  group('apps', 'statefulsets'),
  group('apps', 'statefulsets', 'scale'),
  group('apps', 'deployments'),
  group('apps', 'deployments', 'scale'),
  group('pgdeck.io', 'postgresclusters'),
  group('pgdeck.io', 'postgresclusters', 'status'),
  group('pgdeck.io', 'postgresclusters', 'scale'),
  group('rbac.authorization.k8s.io', 'roles'),
  group('rbac.authorization.k8s.io', 'rolebindings'),
  group('rbac.authorization.k8s.io', 'clusterroles'),
  group('policy', 'poddisruptionbudgets'),
  group('events.k8s.io', 'events'),
  group('networking.k8s.io', 'networkpolicies'),
];

type Grants = readonly (readonly [Access, readonly string[]])[];
/** Owned kinds: informers, and server-side apply (create when absent, else patch) and delete. */
const owned = ['list', 'watch', 'create', 'patch', 'delete'];

/**
 * Each agent's job, read off its code (src/agents/<name>/deps.ts, act.ts, actions.ts, observe.ts
 * and the adapter verbs they call), in the namespace it runs in. An object name in `lease(name)`
 * counts for that Lease only; create cannot be limited by name.
 */
export const JOBS: Readonly<Record<string, Grants>> = {
  'citus-sync': [
    [core('pods'), ['list', 'watch', 'patch']],
    [lease(), ['create']],
    [lease('pgdeck-citus-sync'), ['get', 'update', 'create']],
  ],
  autoscaler: [
    [core('pods'), ['list', 'watch', 'create', 'delete']],
    [group('apps', 'statefulsets', 'scale'), ['get', 'patch']],
    [group('apps', 'deployments', 'scale'), ['get', 'patch']],
    [group('pgdeck.io', 'postgresclusters', 'scale'), ['get', 'patch']],
  ],
  'patroni-operator': [
    [group('pgdeck.io', 'postgresclusters'), ['list', 'watch', 'patch']],
    [group('pgdeck.io', 'postgresclusters', 'status'), ['patch']],
    [group('pgdeck.io', 'postgresclusters', 'scale'), ['patch']],
    [core('serviceaccounts'), owned],
    [core('services'), owned],
    [core('secrets'), owned],
    [group('rbac.authorization.k8s.io', 'roles'), owned],
    [group('rbac.authorization.k8s.io', 'rolebindings'), owned],
    [group('apps', 'statefulsets'), owned],
    [group('apps', 'deployments'), owned],
    [group('policy', 'poddisruptionbudgets'), owned],
    [core('persistentvolumeclaims'), ['deletecollection']],
    [group('events.k8s.io', 'events'), ['create', 'patch']],
    // Patroni's Role, which the operator may grant only by holding it (RBAC escalation prevention).
    [core('configmaps'), ['create', 'get', 'list', 'patch', 'update', 'watch', 'delete', 'deletecollection']],
    [core('pods'), ['get', 'list', 'patch', 'update', 'watch']],
    [core('endpoints'), ['get', 'deletecollection']],
    [lease(), ['create']],
    [lease('pgdeck-patroni-operator'), ['get', 'update', 'create']],
  ],
};

const same = (a: Access, b: Access): boolean =>
  a.group === b.group && a.resource === b.resource && a.subresource === b.subresource && a.name === b.name;

/** Whether the job grants `verb` on `access` (a grant without a name covers every name). */
export function granted(jobs: Grants, access: Access, verb: string): boolean {
  const unnamed = { ...access, name: undefined };
  return jobs.some(
    ([a, verbs]) => verbs.includes(verb) && (same(a, access) || (a.name === undefined && same(a, unnamed))),
  );
}

/** The API server's answer for a ServiceAccount (SubjectAccessReview, as the admin). */
export async function allowed(
  cluster: KubeTestCluster,
  account: { namespace: string; name: string },
  access: Access,
  verb: string,
  namespace: string,
): Promise<boolean> {
  const review = cluster.kubeConfig.makeApiClient(AuthorizationV1Api);
  const answer = await review.createSubjectAccessReview({
    body: {
      spec: {
        user: `system:serviceaccount:${account.namespace}:${account.name}`,
        groups: ['system:serviceaccounts', `system:serviceaccounts:${account.namespace}`, 'system:authenticated'],
        resourceAttributes: {
          namespace,
          verb,
          group: access.group,
          resource: access.resource,
          ...(access.subresource === undefined ? {} : { subresource: access.subresource }),
          ...(access.name === undefined ? {} : { name: access.name }),
        },
      },
    },
  });
  return answer.status?.allowed === true;
}
