import { Redis } from 'ioredis';
import { KUBE_RESOURCES, connectKube } from '../src/agents/adapters/kube.js';
import { autoscalerConfigSchema } from '../src/agents/autoscaler/config.js';
import { autoscalerAgent } from '../src/agents/autoscaler/index.js';
import { startAgent } from '../src/agents/kernel/runtime.js';
import { startKubeControlPlane } from '../src/lab/procs/kube-control-plane.js';
import { startRedis } from '../src/lab/procs/redis.js';
import { newResult, type BenchOptions, type BenchResult } from './report.js';

/**
 * Claim: a scale event reaches the API server as a pod create request within 20 ms (p99) of its XADD,
 * and the agent sustains >= 500 events/s, each acknowledged once and creating its pod once, against
 * real Redis and the real API server. Peer: the replaced tool's model, which polled the stream every
 * 2 s (its latency is the wait for the next poll plus the same create; modeled from the same samples).
 */
const POLL_MS = 2000;

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
}

const until = async (what: string, check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

export async function run(options: BenchOptions): Promise<BenchResult> {
  const result = newResult('autoscaler');
  const samples = options.quick ? 100 : 500;
  const burst = options.quick ? 1000 : 5000;
  const redis = await startRedis();
  const plane = await startKubeControlPlane({ nodes: 3 });
  const admin = connectKube({ source: { kind: 'kubeconfig', path: plane.kubeconfigPath } });
  const namespace = 'bench-autoscaler';
  try {
    await admin.objects('bench').apply(KUBE_RESOURCES.namespaces, { metadata: { name: namespace } });
    const serviceAccounts = {
      ...KUBE_RESOURCES.namespaces,
      plural: 'serviceaccounts',
      kind: 'ServiceAccount',
      namespaced: true,
    };
    await until(
      'the default ServiceAccount',
      async () =>
        (await admin.objects('bench').get({ resource: serviceAccounts, namespace, name: 'default' })) !== undefined,
      30_000,
    );
    const config = autoscalerConfigSchema.parse({
      redis: { host: redis.host, port: redis.port, stream: 'otto:scale:events' },
      consumer: 'bench-0',
      namespace,
      kubeconfig: plane.kubeconfigPath,
      agentImage: 'registry.example/otto-agent:1.0',
      maxPodsInFlight: 10_000,
      createsPerSecond: 10_000,
      createBurst: 10_000,
      retentionSeconds: 3600,
    });
    const agent = await startAgent(autoscalerAgent, config, { loop: { resyncMs: 5000 } });
    const creates: number[] = [];
    const counter = agent.deps.kube.requests;
    const count = counter.count.bind(counter);
    counter.count = (verb, resource) => {
      if (verb === 'create' && resource === 'pods') creates.push(performance.now());
      count(verb, resource);
    };
    const client = new Redis({ host: redis.host, port: redis.port });
    await until(
      'the consumer group',
      async () => ((await client.xinfo('GROUPS', config.redis.stream).catch(() => [])) as unknown[]).length > 0,
      30_000,
    );
    await until('the pod informer synced', () => agent.deps.pods.state().synced, 30_000);

    const latencies: number[] = [];
    for (let i = 0; i < samples; i++) {
      const before = creates.length;
      const t0 = performance.now();
      await client.xadd(config.redis.stream, '*', 'type', 'scale_up', 'pod_count', '1', 'task_id', `lat-${i}`);
      await until('the create request', () => creates.length > before, 10_000);
      latencies.push(creates[before]! - t0);
    }
    result.metrics.samples = samples;
    result.metrics.xadd_to_create_ms_p50 = percentile(latencies, 50);
    result.metrics.xadd_to_create_ms_p99 = percentile(latencies, 99);
    const polled = latencies.map((l, i) => ((i * 7919) % POLL_MS) + l);
    result.peers['2 s polling (modeled)'] = {
      xadd_to_create_ms_p50: percentile(polled, 50),
      xadd_to_create_ms_p99: percentile(polled, 99),
    };

    await until(
      'latency events acknowledged',
      async () => (await client.xpending(config.redis.stream, 'autoscaler'))[0] === 0,
      30_000,
    );
    const createsBefore = creates.length;
    const pipeline = client.pipeline();
    for (let i = 0; i < burst; i++)
      pipeline.xadd(config.redis.stream, '*', 'type', 'scale_up', 'pod_count', '1', 'task_id', `burst-${i}`);
    const t0 = performance.now();
    await pipeline.exec();
    await until(
      'every burst event acknowledged',
      async () => {
        const groups = (await client.xinfo('GROUPS', config.redis.stream)) as unknown[][];
        const g = groups[0] ?? [];
        const lag = g[g.indexOf('lag') + 1];
        return lag === 0 && (await client.xpending(config.redis.stream, 'autoscaler'))[0] === 0;
      },
      600_000,
    );
    const seconds = (performance.now() - t0) / 1000;
    const pods = agent.deps.pods.list().length;
    result.metrics.burst_events = burst;
    result.metrics.events_per_s = burst / seconds;
    result.metrics.burst_create_requests = creates.length - createsBefore;
    result.metrics.dead_letters = await client.xlen(config.redis.deadLetterStream);
    result.notes.push(
      `latency: XADD (awaited) to the agent's pod create request being sent, one event at a time, ${samples} samples`,
      `throughput: ${burst} scale_up events (pod_count 1, distinct tasks) pipelined, until lag and pending are 0; each creates a pod`,
      `exactly once in effect: ${creates.length - createsBefore} create requests for ${burst} events; ${pods} task pods in the informer (expect ${samples + burst})`,
      `the polling peer is modeled: each sample's create latency plus a uniform wait for the next 2 s poll`,
    );
    client.disconnect();
    await agent.close();
  } finally {
    await admin.close();
    await plane.stop();
    await redis.stop();
  }
  return result;
}
