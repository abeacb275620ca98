import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CoreV1Api, KubeConfig, Watch, type V1Pod } from '@kubernetes/client-node';
import { controlPlaneBuildDir, readEnvFile } from '../src/lab/procs/kube-binaries.js';
import { startKubeControlPlane, type KubeControlPlane } from '../src/lab/procs/kube-control-plane.js';
import { newResult, type BenchOptions, type BenchResult } from './report.js';

/**
 * Claim: the lab's real Kubernetes control plane (built from the Go module proxy) is cheap enough for
 * every test file and CI run. Measures the build (cold figure from the build's stamp), start-to-ready
 * of etcd + apiserver + controller-manager + scheduler + kwok, and pod create-to-Ready latency on
 * kwok nodes (client-side: from the create call to the watch event showing Ready=True).
 */
const run$ = promisify(execFile);
const repo = join(dirname(fileURLToPath(import.meta.url)), '..');

export async function run(options: BenchOptions): Promise<BenchResult> {
  const result = newResult('control-plane');
  await buildFigures(result);

  const starts: number[] = [];
  const startCount = options.quick ? 1 : 3;
  let plane: KubeControlPlane | undefined;
  for (let i = 0; i < startCount; i++) {
    const started = await startKubeControlPlane({ nodes: 3 });
    starts.push(started.startMs);
    if (i < startCount - 1) await started.stop();
    else plane = started;
  }
  result.metrics.warm_start_ms_p50 = percentile(starts, 50);
  result.metrics.warm_start_ms_max = Math.max(...starts);
  if (plane === undefined) throw new Error('no control plane started');
  try {
    const pods = options.quick ? 20 : 100;
    const latencies = await podReadyLatencies(plane, pods, 10);
    result.metrics.pods = pods;
    result.metrics.pod_scheduled_ms_p50 = percentile(latencies.scheduled, 50);
    result.metrics.pod_scheduled_ms_p99 = percentile(latencies.scheduled, 99);
    result.metrics.pod_ready_ms_p50 = percentile(latencies.ready, 50);
    result.metrics.pod_ready_ms_p99 = percentile(latencies.ready, 99);
    result.metrics.pod_ready_ms_max = Math.max(...latencies.ready);
    result.metrics.pods_ready_per_s = Math.round((pods / latencies.totalMs) * 1000 * 10) / 10;
    result.notes.push(
      `${startCount} start(s) to ready (3 kwok nodes, default ServiceAccount present); pods created 10 at a time, bare pods on 3 kwok nodes`,
    );
  } finally {
    await plane.stop();
  }
  return result;
}

/** Runs scripts/control-plane/build (a no-op when built) and reports the stamp's figures. */
async function buildFigures(result: BenchResult): Promise<void> {
  const { stdout, stderr } = await run$(join(repo, 'scripts', 'control-plane', 'build'), {
    maxBuffer: 16 * 1024 * 1024,
  });
  result.notes.push(`build: ${stderr.trim().split('\n').slice(-1)[0] ?? ''}`);
  const build = controlPlaneBuildDir();
  const stampFile = build === undefined ? undefined : join(build, 'complete.env');
  const binDir = stdout.trim().split('\n').slice(-1)[0];
  if (build === undefined || stampFile === undefined || binDir !== join(build, 'bin') || !existsSync(stampFile)) {
    result.notes.push('binaries from PGDECK_KUBE_BIN or PATH: no build figure');
    return;
  }
  const stamp = readEnvFile(stampFile);
  result.metrics.last_build_s = Number(stamp.build_seconds);
  result.notes.push(
    `last_build_s: the latest go build of the five binaries, ${stamp.built_at}, ${stamp.cpus} cpus, ${stamp.go}, ` +
      `with ${stamp.gocache_mb_before} MB in the Go build cache and ${stamp.gomodcache_mb_before} MB in the module cache before`,
  );
  if (stamp.cold_build_seconds === undefined) {
    result.notes.push('no cold build recorded (the cache was built with a warm Go build cache)');
    return;
  }
  result.metrics.cold_build_s = Number(stamp.cold_build_seconds);
  result.notes.push(
    `cold_build_s: empty Go build cache, ${stamp.cold_gomodcache_mb_before} MB in the module cache (0 = every module downloaded too), ${stamp.cold_built_at}`,
  );
}

interface PodLatencies {
  /** From the create call to the watch event with spec.nodeName set (the scheduler's bind). */
  readonly scheduled: number[];
  /** From the create call to the watch event with Ready=True (kwok's pod-ready stage). */
  readonly ready: number[];
  readonly totalMs: number;
}

async function podReadyLatencies(plane: KubeControlPlane, count: number, inFlight: number): Promise<PodLatencies> {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(plane.kubeconfigYaml);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const namespace = 'bench';
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  for (;;) {
    const found = await core.listNamespacedServiceAccount({ namespace, fieldSelector: 'metadata.name=default' });
    if (found.items.length > 0) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const createdAt = new Map<string, number>();
  const scheduledAfter = new Map<string, number>();
  const readyAfter = new Map<string, number>();
  let allReady: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    allReady = resolve;
  });
  const watch = await new Watch(kubeConfig).watch(
    `/api/v1/namespaces/${namespace}/pods`,
    {},
    (_phase, pod: V1Pod) => {
      const name = pod.metadata?.name ?? '';
      const created = createdAt.get(name);
      const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
      if (created === undefined) return;
      if (pod.spec?.nodeName !== undefined && !scheduledAfter.has(name))
        scheduledAfter.set(name, performance.now() - created);
      if (!ready || readyAfter.has(name)) return;
      readyAfter.set(name, performance.now() - created);
      if (readyAfter.size === count) allReady();
    },
    () => undefined,
  );
  const t0 = performance.now();
  try {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < count) {
        const name = `pod-${next++}`;
        createdAt.set(name, performance.now());
        await core.createNamespacedPod({
          namespace,
          body: { metadata: { name }, spec: { containers: [{ name: 'app', image: 'registry.invalid/app:1' }] } },
        });
      }
    };
    await Promise.all(Array.from({ length: inFlight }, worker));
    await Promise.race([
      done,
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`only ${readyAfter.size}/${count} pods Ready after 120 s`)), 120_000).unref(),
      ),
    ]);
  } finally {
    watch.abort();
  }
  const rounded = (times: Map<string, number>): number[] => [...times.values()].map((ms) => Math.round(ms * 10) / 10);
  return { scheduled: rounded(scheduledAfter), ready: rounded(readyAfter), totalMs: performance.now() - t0 };
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
}
