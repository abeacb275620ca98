import { connectKube, KUBE_RESOURCES, type KubeObject, type KubeObjects } from '../../agents/adapters/kube.js';
import { postgresClusterCrd } from '../../agents/patroni-operator/crd.js';
import { waitUntil } from '../procs/daemon.js';
import { KUBE_AGENTS, startLabAgents, type KubeAgentName, type LabAgent } from './agents.js';
import { backCitusPods, WORKER_SET } from './citus-pods.js';
import type { Published } from './components.js';
import { describeSample, startSampleCluster } from './sample-cluster.js';
import type { LabOptions } from './options.js';
import type { Stack } from './stack.js';
import { SAMPLE_COMPONENT, type ComponentPhase } from './state.js';

type SetPhase = (name: string, phase: ComponentPhase, detail: string, published?: Published) => void;

/** The agents this lab runs once its control plane is up: citus-sync only with a Citus topology. */
export function labAgentNames(options: Pick<LabOptions, 'citusWorkers'>): KubeAgentName[] {
  return KUBE_AGENTS.filter((a) => a !== 'citus-sync' || options.citusWorkers > 0);
}

/** Applies the PostgresCluster CRD (the same object as manifests/crd/) and waits until it is Established. */
export async function installCrd(objects: KubeObjects, signal?: AbortSignal): Promise<void> {
  const crd = postgresClusterCrd() as KubeObject;
  await objects.apply(KUBE_RESOURCES.customResourceDefinitions, crd);
  await waitUntil(
    'the PostgresCluster CRD established',
    async () => {
      const got = await objects.get<KubeObject>({
        resource: KUBE_RESOURCES.customResourceDefinitions,
        name: crd.metadata?.name ?? '',
      });
      const conditions = (got?.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions;
      return conditions?.some((c) => c.type === 'Established' && c.status === 'True') === true;
    },
    60_000,
    { ...(signal === undefined ? {} : { signal }), intervalMs: 100 },
  );
}

export function publishAgent(agent: LabAgent, detail: string): Published {
  return { detail, endpoints: { url: agent.url }, logs: { [agent.name]: agent.logFile } };
}

const details: Readonly<Record<KubeAgentName, string>> = {
  'patroni-operator': 'reconciles PostgresClusters (CRD postgresclusters.pgdeck.io)',
  autoscaler: `scale events on the Redis stream; target ${WORKER_SET} (the Citus worker StatefulSet)`,
  'citus-sync': `pg_dist_node follows the ${WORKER_SET} pods (each backed by a lab worker)`,
};

/**
 * With the control plane up: the CRD, the Citus worker StatefulSet with the lab's workers behind
 * its pods, then the three agents, each published as its own component.
 */
export async function startKubeParts(
  options: LabOptions,
  stack: Stack,
  ports: Readonly<Record<KubeAgentName, number>>,
  set: SetPhase,
  signal: AbortSignal,
): Promise<void> {
  const kube = stack.kube!;
  const names = labAgentNames(options);
  for (const name of names) set(name, 'starting', '', { detail: '', endpoints: { url: url(ports[name]) }, logs: {} });
  try {
    const client = connectKube({ source: { kind: 'kubeconfig', path: kube.kubeconfigPath } });
    try {
      await installCrd(client.objects('pgdeck-lab'), signal);
    } finally {
      await client.close();
    }
    if (stack.citus !== undefined) stack.citusPods = await backCitusPods(kube.kubeconfigPath, stack.citus, signal);
    stack.agents = await startLabAgents({
      command: options.command,
      kubeconfig: kube.kubeconfigPath,
      token: stack.failover?.token ?? '',
      redis: stack.redis!,
      citus: stack.citus,
      ports,
    });
  } catch (error) {
    if (signal.aborted) return;
    const why = error instanceof Error ? error.message.split('\n')[0]! : String(error);
    for (const name of names) set(name, 'failed', why, { detail: why, endpoints: { url: url(ports[name]) }, logs: {} });
    set(SAMPLE_COMPONENT, 'failed', 'the operator did not start');
    return;
  }
  for (const agent of stack.agents.agents) set(agent.name, 'ready', '', publishAgent(agent, details[agent.name]));
  await startSample(kube.kubeconfigPath, stack, set, signal);
}

/** The sample PostgresCluster, once the operator runs: a component of its own, ready when the operator reports it Running. */
async function startSample(kubeconfig: string, stack: Stack, set: SetPhase, signal: AbortSignal): Promise<void> {
  set(SAMPLE_COMPONENT, 'starting', 'applying manifests/components/sample; waiting for the operator');
  try {
    stack.sample = await startSampleCluster(kubeconfig, signal);
  } catch (error) {
    if (signal.aborted) return;
    set(SAMPLE_COMPONENT, 'failed', error instanceof Error ? error.message.split('\n')[0]! : String(error));
    return;
  }
  set(SAMPLE_COMPONENT, 'ready', describeSample(stack.sample, stack.sample.status()));
}

const url = (port: number): string => `http://127.0.0.1:${port}`;
