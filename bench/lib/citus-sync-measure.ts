import { Client } from 'pg';
import { connectKube } from '../../src/agents/adapters/kube.js';
import { citusSyncConfigSchema } from '../../src/agents/citus-sync/config.js';
import { citusSyncAgent } from '../../src/agents/citus-sync/index.js';
import { startAgent } from '../../src/agents/kernel/runtime.js';
import { startCitus, type CitusMode } from '../../src/lab/procs/citus.js';
import type { KubeControlPlane } from '../../src/lab/procs/kube-control-plane.js';
import { BENCH_SELECTOR, BenchPods } from './citus-bench-pods.js';

const LEASE = { leaseDurationSeconds: 15, renewDeadlineMs: 10_000, retryPeriodMs: 2000 };
/** The stand-in's pods share servers: each server listens on this many loopback addresses, one pod per address. */
const NAMES_PER_STANDIN_SERVER = 20;

export interface CitusBenchSizes {
  readonly pods: number;
  readonly burst: number;
  readonly rounds: number;
  readonly steadyS: number;
}

export interface CitusRun {
  readonly metrics: Record<string, number>;
  readonly ready: readonly number[];
}

export function percentile(values: readonly number[], p: number): number {
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

/** Real Citus: one real server per pod. The stand-in: a server per 20 pods, each pod under its own loopback name. */
function layout(mode: CitusMode, pods: number): { servers: number; names: number } {
  const names = mode === 'citus' ? 1 : Math.min(pods, NAMES_PER_STANDIN_SERVER);
  return { servers: Math.ceil(pods / names), names };
}

export async function measureCitusSync(
  mode: CitusMode,
  sizes: CitusBenchSizes,
  plane: KubeControlPlane,
): Promise<CitusRun> {
  const { pods: count, burst, rounds, steadyS } = sizes;
  const { servers, names: aliases } = layout(mode, count);
  const loopback = Array.from({ length: aliases }, (_, i) => `127.0.0.${i + 1}`);
  const cluster = await startCitus({
    mode,
    workers: servers,
    settings: { listen_addresses: `'${loopback.join(',')}'`, max_connections: '400' },
  });
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
    const names = Array.from({ length: count }, (_, i) => `w${i + 1}`);
    const keys = names.map((_, i) => `${loopback[i % aliases]!}:${cluster.workers[Math.floor(i / aliases)]!.port}`);
    const created: number[] = [];
    const ready: number[] = [];
    const down: number[] = [];
    const settle = async (i: number, to: boolean, t0: number, into: number[]): Promise<void> => {
      await until(`${keys[i]} ${to ? 'active' : 'inactive'}`, async () => (await active()).has(keys[i]!) === to);
      into.push(performance.now() - t0);
    };
    for (const [i, name] of names.entries()) await settle(i, true, await pods.create(name, keys[i]!), created);
    for (let r = 0; r < rounds; r++)
      for (const [i, name] of names.entries()) {
        await settle(i, false, await pods.setReady(name, false), down);
        await settle(i, true, await pods.setReady(name, true), ready);
      }

    const counter = agent.deps.kube.requests;
    counter.reset();
    kube.requests.reset();
    await new Promise((r) => setTimeout(r, steadyS * 1000));
    const steady = Object.entries(counter.snapshot());
    const leaseRequests = kube.requests.total();
    const perMin = (pick: (key: string) => boolean): number =>
      (steady.filter(([k]) => pick(k)).reduce((s, [, n]) => s + n, 0) * 60) / steadyS;

    const burstNames = names.slice(0, burst);
    const burstKeys = keys.slice(0, burst);
    const activeBurst = async (): Promise<number> => {
      const now = await active();
      return burstKeys.filter((k) => now.has(k)).length;
    };
    await Promise.all(burstNames.map((n) => pods.setReady(n, false)));
    await until('every burst node disabled', async () => (await activeBurst()) === 0, 180_000);
    const burstAt = performance.now();
    await Promise.all(burstNames.map((n) => pods.setReady(n, true)));
    await until('every burst node active', async () => (await activeBurst()) === burst, 180_000);
    const burstMs = performance.now() - burstAt;

    const deleted: number[] = [];
    for (const [i, name] of names.entries()) {
      const t0 = performance.now();
      await pods.delete(name);
      await settle(i, false, t0, deleted);
    }
    const metrics: Record<string, number> = {
      pods: count,
      servers,
      created_to_active_ms_p50: percentile(created, 50),
      created_to_active_ms_p99: percentile(created, 99),
      ready_samples: ready.length,
      ready_to_active_ms_p50: percentile(ready, 50),
      ready_to_active_ms_p99: percentile(ready, 99),
      not_ready_to_disabled_ms_p50: percentile(down, 50),
      not_ready_to_disabled_ms_p99: percentile(down, 99),
      deleted_to_disabled_ms_p50: percentile(deleted, 50),
      deleted_to_disabled_ms_p99: percentile(deleted, 99),
      burst_pods: burst,
      burst_all_active_ms: burstMs,
      steady_requests_per_min: perMin(() => true),
      steady_pod_list_or_get_per_min: perMin((k) => k === 'list pods' || k === 'get pods'),
      steady_writes_per_min: perMin((k) => !/^(get|list|watch) /.test(k)),
      steady_lease_requests_per_min: (leaseRequests * 60) / steadyS,
    };
    return { metrics, ready };
  } finally {
    await agent.close();
    await kube.close();
    await db.end();
    await cluster.stop();
  }
}
