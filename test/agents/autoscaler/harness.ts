import { AppsV1Api, CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterEach } from 'vitest';
import { autoscalerConfigSchema } from '../../../src/agents/autoscaler/config.js';
import { autoscalerAgent } from '../../../src/agents/autoscaler/index.js';
import { TASK_POD_SELECTOR } from '../../../src/agents/autoscaler/task-pods.js';
import type { AutoscalerConfig, AutoscalerState } from '../../../src/agents/autoscaler/types.js';
import { startAgent, type RunningAgent } from '../../../src/agents/kernel/runtime.js';
import { POD_COMPLETE_ANNOTATION } from '../../../src/lab/procs/kwok-stages.js';
import type { RedisServer } from '../../../src/lab/procs/redis.js';
import type { KubeTestCluster } from '../../helpers/kube.js';

export type Autoscaler = RunningAgent<
  AutoscalerConfig,
  Awaited<ReturnType<typeof autoscalerAgent.connect>>,
  AutoscalerState
>;

let streams = 0;

/** A config for one test: its own namespace and stream, the lab's Redis and the test control plane. */
export function configFor(
  cluster: KubeTestCluster,
  redis: RedisServer,
  namespace: string,
  overrides: Record<string, unknown> = {},
): AutoscalerConfig {
  streams += 1;
  return autoscalerConfigSchema.parse({
    redis: { host: redis.host, port: redis.port, stream: `otto:scale:events:${process.pid}:${streams}` },
    consumer: 'c1',
    namespace,
    kubeconfig: cluster.plane.kubeconfigPath,
    agentImage: 'registry.example/otto-agent:1.0',
    claimIdleMs: 1000,
    blockMs: 1000,
    ...overrides,
  });
}

/** Starts autoscalers in this process; all closed after each test. */
export function autoscalers(): (config: AutoscalerConfig) => Promise<Autoscaler> {
  const open: Autoscaler[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((a) => a.close()));
  });
  return async (config) => {
    const agent = await startAgent(autoscalerAgent, config, { loop: { resyncMs: 1000 } });
    open.push(agent);
    return agent;
  };
}

export interface ChildConsumer {
  readonly child: ChildProcess;
  readonly lines: readonly Record<string, unknown>[];
  readonly exited: Promise<number | null>;
}

/** An autoscaler in its own process (test/fixtures/autoscaler-consumer.ts); killed after each test. */
export function childConsumers(): (config: AutoscalerConfig) => ChildConsumer {
  const open: ChildProcess[] = [];
  afterEach(() => {
    for (const child of open.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  });
  return (config) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/fixtures/autoscaler-consumer.ts', JSON.stringify(config)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    open.push(child);
    const lines: Record<string, unknown>[] = [];
    createInterface({ input: child.stdout! }).on('line', (line) =>
      lines.push(JSON.parse(line) as Record<string, unknown>),
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    return { child, lines, exited };
  };
}

export function kubeApis(cluster: KubeTestCluster): { core: CoreV1Api; apps: AppsV1Api } {
  return { core: cluster.kubeConfig.makeApiClient(CoreV1Api), apps: cluster.kubeConfig.makeApiClient(AppsV1Api) };
}

/** The task pods of a namespace, by name. */
export async function taskPods(core: CoreV1Api, namespace: string): Promise<V1Pod[]> {
  const list = await core.listNamespacedPod({ namespace, labelSelector: TASK_POD_SELECTOR });
  return list.items.sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
}

/** Marks a pod to finish with `phase` (the lab's kwok stage completes it as a kubelet would). */
export async function completePod(
  core: CoreV1Api,
  namespace: string,
  name: string,
  phase: 'Succeeded' | 'Failed',
): Promise<void> {
  await core.patchNamespacedPod({
    namespace,
    name,
    body: [{ op: 'add', path: `/metadata/annotations/${POD_COMPLETE_ANNOTATION.replace('/', '~1')}`, value: phase }],
  });
}
