import {
  ApiException,
  AuthorizationV1Api,
  CoreV1Api,
  KubeConfig,
  RbacAuthorizationV1Api,
  type V1PolicyRule,
} from '@kubernetes/client-node';
import { afterAll, beforeAll } from 'vitest';
import { connectKube, type KubeClient, type KubeClientOptions } from '../../src/agents/adapters/kube.js';
import { startKubeControlPlane, type KubeControlPlane } from '../../src/lab/procs/kube-control-plane.js';

export interface KubeTestCluster {
  readonly plane: KubeControlPlane;
  /** Admin (system:masters) credentials. */
  readonly kubeConfig: KubeConfig;
  /** A fresh namespace whose `default` ServiceAccount exists, so pods can be created in it at once. */
  namespace(prefix?: string): Promise<string>;
  /** A KubeConfig acting as a ServiceAccount, with a token from the TokenRequest API. */
  serviceAccountConfig(namespace: string, serviceAccount: string): Promise<KubeConfig>;
}

/**
 * A real control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok nodes) for one
 * test file: started in beforeAll, stopped in afterAll. Call the getter inside tests.
 */
export function withKube(options: { nodes?: number } = {}): () => KubeTestCluster {
  let cluster: KubeTestCluster | undefined;
  beforeAll(async () => {
    const plane = await startKubeControlPlane({ nodes: options.nodes ?? 3 });
    cluster = clusterOf(plane);
  });
  afterAll(async () => {
    await cluster?.plane.stop();
  });
  return () => {
    if (cluster === undefined) throw new Error('control plane not started: use it inside a test');
    return cluster;
  };
}

function clusterOf(plane: KubeControlPlane): KubeTestCluster {
  const kubeConfig = configFrom(plane.kubeconfigYaml);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  let count = 0;
  return {
    plane,
    kubeConfig,
    namespace: async (prefix = 'test') => {
      const name = `${prefix}-${process.pid}-${++count}`;
      await core.createNamespace({ body: { metadata: { name } } });
      await eventually(
        `ServiceAccount ${name}/default`,
        async () =>
          (await orNotFound(core.readNamespacedServiceAccount({ namespace: name, name: 'default' }))) !== undefined,
      );
      return name;
    },
    serviceAccountConfig: async (namespace, serviceAccount) =>
      configFrom(await plane.mintServiceAccountKubeconfig(namespace, serviceAccount)),
  };
}

function configFrom(yaml: string): KubeConfig {
  const config = new KubeConfig();
  config.loadFromString(yaml);
  return config;
}

/** Polls `check` every 100 ms until it returns a value other than false/undefined. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | false | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== false && value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last === undefined ? '' : `: ${String(last)}`}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The API call's result, or undefined on 404. */
export async function orNotFound<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (error) {
    if (error instanceof ApiException && error.code === 404) return undefined;
    throw error;
  }
}

/** The HTTP status and the API server's message of a call that must fail. */
export async function apiError(call: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await call;
  } catch (error) {
    if (!(error instanceof ApiException)) throw error;
    return { code: error.code, message: statusMessage(error.body) };
  }
  throw new Error('the call succeeded, but it was expected to fail');
}

/** The `message` of a Status body, which client-node hands over as text or as an object. */
function statusMessage(body: unknown): string {
  if (typeof body !== 'string') return (body as { message?: string } | undefined)?.message ?? '';
  try {
    return (JSON.parse(body) as { message?: string }).message ?? body;
  } catch {
    return body;
  }
}

/** The kube adapter's client as the cluster admin (close it in the test, or in afterAll). */
export function adminKube(cluster: KubeTestCluster, options: Omit<KubeClientOptions, 'source'> = {}): KubeClient {
  return connectKube({ ...options, source: { kind: 'kubeconfig', path: cluster.plane.kubeconfigPath } });
}

/**
 * A ServiceAccount bound to a Role with exactly `rules`, and a kubeconfig (bound token from the
 * TokenRequest API) acting as it; resolves once the RoleBinding is in effect (`probe` is allowed).
 */
export async function serviceAccountKubeconfig(
  cluster: KubeTestCluster,
  namespace: string,
  name: string,
  rules: readonly V1PolicyRule[],
): Promise<string> {
  const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
  const rbac = cluster.kubeConfig.makeApiClient(RbacAuthorizationV1Api);
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  await rbac.createNamespacedRole({ namespace, body: { metadata: { name }, rules: [...rules] } });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace }],
    },
  });
  const yaml = await cluster.plane.mintServiceAccountKubeconfig(namespace, name);
  const review = cluster.kubeConfig.makeApiClient(AuthorizationV1Api);
  const [rule] = rules;
  await eventually(`the RoleBinding of ${namespace}/${name} in effect`, async () => {
    if (rule === undefined) return true;
    const answer = await review.createSubjectAccessReview({
      body: {
        spec: {
          user: `system:serviceaccount:${namespace}:${name}`,
          resourceAttributes: {
            namespace,
            verb: rule.verbs[0],
            group: rule.apiGroups?.[0],
            resource: rule.resources?.[0],
          },
        },
      },
    });
    return answer.status?.allowed === true;
  });
  return yaml;
}
