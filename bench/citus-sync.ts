import { Client } from 'pg';
import { connectKube } from '../src/agents/adapters/kube.js';
import { citusSyncConfigSchema } from '../src/agents/citus-sync/config.js';
import { citusSyncAgent } from '../src/agents/citus-sync/index.js';
import { startAgent } from '../src/agents/kernel/runtime.js';
import { citusInstallation, startCitus, type CitusMode } from '../src/lab/procs/citus.js';
import { startKubeControlPlane, type KubeControlPlane } from '../src/lab/procs/kube-control-plane.js';
import { BENCH_SELECTOR, BenchPods } from './lib/citus-bench-pods.js';
import { newResult, type BenchOptions, type BenchResult } from './report.js';

/**
 * Claim (issue 16): a pod becoming Ready has its node active in pg_dist_node within 500 ms (p99), a pod
 * gone or not ready has it disabled as fast, a burst of pods Ready at once are all active within 5 s,
 * and the steady state costs the API server only watches (no relists, no polling). Real control plane,
 * real Citus 13.2.2 workers, then the SQL stand-in with the same workers. Peer: the replaced tool,
 * which scanned every 20 s (modeled: a uniform wait for the next scan plus the same add).
 */
const SCAN_MS = 20_000;
const LEASE = { leaseDurationSeconds: 15, renewDeadlineMs: 10_000, retryPeriodMs: 2000 };

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
}

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

interface Run {
  readonly metrics: Record<string, number>;
  readonly ready: readonly number[];
}

async function measure(mode: CitusMode, workers: number, rounds: number, steadyS: number, plane: KubeControlPlane) {
  const cluster = await startCitus({ mode, workers });
  const { coordinator } = cluster;
  const db = new Client({ host: coordinator.host, port: coordinator.port, user: 'postgres', database: 'postgres' });
  await db.connect();
  const namespace = `bench-citus-${mode}`;
  const pods = new BenchPods(plane.kubeconfigYaml, namespace);
  await pods.namespaceReady();
  const kube = connectKube({ source: { kind: 'kubeconfig', path: plane.kubeconfigPath } });
  const config = citusSyncConfigSchema.parse({
    host: `${coordinator.host}:${coordinator.port}`,
    namespace,
    labelSelector: BENCH_SELECTOR,
    addressing: 'annotation',
    scanIntervalSeconds: 60,
    kubeconfig: plane.kubeconfigPath,
    replica: 'bench',
    policy: 'disable',
  });
  const agent = await startAgent(citusSyncAgent, config, {
    leaderElector: kube.leaderElectorFactory({ namespace, timings: LEASE }),
  });
  try {
    await until('the agent leads with its pods synced', () => {
      const s = agent.store.getSnapshot();
      return s.leadership?.leading === true && s.state?.pods.synced === true;
    });
    const active = async (): Promise<Set<string>> =>
      new Set(
        (
          await db.query<{ a: string }>(
            `SELECT nodename || ':' || nodeport AS a FROM pg_dist_node WHERE groupid <> 0 AND isactive`,
          )
        ).rows.map((r) => r.a),
      );
    const names = cluster.workers.map((_, i) => `w${i + 1}`);
    const keys = cluster.workers.map((w) => `${w.host}:${w.port}`);
    const ready: number[] = [];
    const down: number[] = [];
    const flip = async (i: number, to: boolean, into: number[]): Promise<void> => {
      const t0 = await pods.setReady(names[i]!, to);
      await until(`${keys[i]} ${to ? 'active' : 'inactive'}`, async () => (await active()).has(keys[i]!) === to);
      into.push(performance.now() - t0);
    };
    for (const [i, name] of names.entries()) {
      await pods.create(name, keys[i]!);
      await flip(i, true, ready);
    }
    for (let r = 0; r < rounds; r++)
      for (const i of names.keys()) {
        await flip(i, false, down);
        await flip(i, true, ready);
      }

    const counter = agent.deps.kube.requests;
    counter.reset();
    kube.requests.reset();
    await new Promise((r) => setTimeout(r, steadyS * 1000));
    const steady = Object.entries(counter.snapshot());
    const leaseRequests = kube.requests.total();
    const perMin = (pick: (key: string) => boolean): number =>
      (steady.filter(([k]) => pick(k)).reduce((s, [, n]) => s + n, 0) * 60) / steadyS;

    await Promise.all(names.map((n) => pods.setReady(n, false)));
    await until('every node disabled', async () => (await active()).size === 0, 120_000);
    const burstAt = performance.now();
    await Promise.all(names.map((n) => pods.setReady(n, true)));
    await until('every node active after the burst', async () => (await active()).size === workers, 120_000);
    const burstMs = performance.now() - burstAt;

    const deleted: number[] = [];
    for (const [i, name] of names.entries()) {
      const t0 = performance.now();
      await pods.delete(name);
      await until(`${keys[i]} disabled after its pod's deletion`, async () => !(await active()).has(keys[i]!));
      deleted.push(performance.now() - t0);
    }
    const metrics: Record<string, number> = {
      workers,
      ready_samples: ready.length,
      ready_to_active_ms_p50: percentile(ready, 50),
      ready_to_active_ms_p99: percentile(ready, 99),
      not_ready_to_disabled_ms_p50: percentile(down, 50),
      not_ready_to_disabled_ms_p99: percentile(down, 99),
      deleted_to_disabled_ms_p50: percentile(deleted, 50),
      deleted_to_disabled_ms_p99: percentile(deleted, 99),
      burst_all_active_ms: burstMs,
      steady_requests_per_min: perMin(() => true),
      steady_pod_list_or_get_per_min: perMin((k) => k === 'list pods' || k === 'get pods'),
      steady_writes_per_min: perMin((k) => !/^(get|list|watch) /.test(k)),
      steady_lease_requests_per_min: (leaseRequests * 60) / steadyS,
    };
    return { metrics, ready } satisfies Run;
  } finally {
    await agent.close();
    await kube.close();
    await db.end();
    await cluster.stop();
  }
}

export async function run(options: BenchOptions): Promise<BenchResult> {
  const result = newResult('citus-sync');
  const workers = options.quick ? 5 : 20;
  const rounds = options.quick ? 1 : 2;
  const steadyS = options.quick ? 15 : 60;
  const plane = await startKubeControlPlane({ nodes: 1 });
  try {
    const modes: CitusMode[] = citusInstallation().kind === 'installed' ? ['citus', 'standin'] : ['standin'];
    let sample: readonly number[] = [];
    for (const mode of modes) {
      const { metrics, ready } = await measure(mode, workers, rounds, steadyS, plane);
      const label = mode === 'citus' ? 'real_citus' : 'standin';
      for (const [k, v] of Object.entries(metrics)) result.metrics[`${label}_${k}`] = v;
      if (mode === 'citus' || sample.length === 0) sample = ready;
    }
    const scanned = sample.map((l, i) => ((i * 7919) % SCAN_MS) + l);
    result.peers['20 s scan (modeled)'] = {
      real_citus_ready_to_active_ms_p50: percentile(scanned, 50),
      real_citus_ready_to_active_ms_p99: percentile(scanned, 99),
    };
  } finally {
    await plane.stop();
  }
  result.notes.push(
    `${workers} worker pods, each backed by a real PostgreSQL worker (real Citus 13.2.2, then the SQL stand-in), disable policy`,
    `ready_to_active: the pod's Ready status write sent -> its row isactive in pg_dist_node (polled every 5 ms); first an add, then ${rounds} not-ready/ready rounds (activate)`,
    `burst: all ${workers} pods Ready at once -> all active; deleted_to_disabled: the pod's delete sent -> row inactive`,
    `steady: ${steadyS} s with nothing changing, requests the agent's client sent, per minute (a watch counts once, when opened); the Lease renewals go through the elector's own client, counted apart`,
    'the 200-pod stand-in run on kwok nodes is not part of this bench: every pod here has its own real server',
    'the 20 s scan peer is modeled: each sample plus a uniform wait for the next scan',
  );
  return result;
}
