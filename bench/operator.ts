import { loadavg } from 'node:os';
import { connectKube, type KubeClient } from '../src/agents/adapters/kube.js';
import { startAgent } from '../src/agents/kernel/runtime.js';
import { operatorConfigSchema } from '../src/agents/patroni-operator/config.js';
import { POSTGRES_CLUSTERS } from '../src/agents/patroni-operator/deps.js';
import { patroniOperatorAgent } from '../src/agents/patroni-operator/index.js';
import { OWNED_KINDS } from '../src/agents/patroni-operator/types.js';
import { startKubeControlPlane } from '../src/lab/procs/kube-control-plane.js';
import {
  benchNamespace,
  benchSpec,
  createVolumes,
  installCrd,
  labelRolesAsPatroni,
  phaseTimes,
  until,
} from './lib/operator-bench-kube.js';
import { newResult, type BenchOptions, type BenchResult } from './report.js';

/**
 * Claim (issue 12): 100 PostgresClusters of 3 members created at once on the real control plane (kwok
 * nodes) are all Running within 30 s; creating one costs one write per owned object plus its status
 * updates; a steady state writes nothing and costs the API server only watches. The bench stands in
 * for Patroni: it labels each Ready pod's role. The operator runs as `pgdeck --agent patroni-operator`
 * does (its own reconcile concurrency, OPERATOR_RECONCILE_CONCURRENCY; the Lease gate with its default timings).
 */
const NAMESPACE = 'bench-operator';
const MEMBERS = 3;
/** After all are Running, the operator's trailing passes (requeues 5 s apart while settling) finish in this. */
const SETTLE_MS = 12_000;
/** Room for every event of the creation, so the reconciles that failed with a conflict (a 409, e.g. a status patch on a stale resourceVersion) can be counted from the journal. */
const JOURNAL = 100_000;
const WRITES = ['create', 'update', 'patch', 'delete', 'deletecollection'];

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
}

const sum = (counts: Readonly<Record<string, number>>, pick: (verb: string, resource: string) => boolean): number =>
  Object.entries(counts).reduce((s, [k, n]) => {
    const [verb = '', resource = ''] = k.split(' ');
    return pick(verb, resource) ? s + n : s;
  }, 0);

const isWrite = (verb: string): boolean => WRITES.includes(verb);

export async function run(options: BenchOptions): Promise<BenchResult> {
  const result = newResult('operator');
  const clusters = options.quick ? 20 : 100;
  const steadyS = options.quick ? 30 : 300;
  const load = loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
  const plane = await startKubeControlPlane({ nodes: 3 });
  const stop = new AbortController();
  let admin: KubeClient | undefined;
  let lease: KubeClient | undefined;
  try {
    // the bench's own client waits longer than the default 10 s: a hundred applies at once on a loaded machine
    admin = connectKube({ source: { kind: 'kubeconfig', path: plane.kubeconfigPath }, requestTimeoutMs: 60_000 });
    lease = connectKube({ source: { kind: 'kubeconfig', path: plane.kubeconfigPath } });
    await installCrd(admin);
    await benchNamespace(admin, NAMESPACE);
    await createVolumes(admin, 'bench-pv', clusters * MEMBERS);
    const config = operatorConfigSchema.parse({
      kubeconfig: plane.kubeconfigPath,
      namespace: NAMESPACE,
      instance: 'bench-operator-0',
    });
    const agent = await startAgent(patroniOperatorAgent, config, {
      leaderElector: lease.leaderElectorFactory({ namespace: NAMESPACE }),
      journalCapacity: JOURNAL,
    });
    try {
      await until(
        'the operator leads with its informers synced',
        () => {
          const s = agent.store.getSnapshot();
          return s.leadership?.leading === true && s.state?.synced === true;
        },
        60_000,
      );
      const running = phaseTimes(admin, NAMESPACE, 'Running', stop.signal);
      const patroni = labelRolesAsPatroni(admin, NAMESPACE, MEMBERS, stop.signal);
      const requests = agent.deps.kube.requests;
      requests.reset();
      const fromSeq = agent.store.journal.lastSeq;
      const user = admin.objects('bench-user');
      const names = Array.from({ length: clusters }, (_, i) => `pgc-${String(i).padStart(3, '0')}`);
      const t0 = performance.now();
      await Promise.all(
        names.map((name) =>
          user.apply(POSTGRES_CLUSTERS, { metadata: { name, namespace: NAMESPACE }, spec: benchSpec(MEMBERS) }),
        ),
      );
      const appliedMs = performance.now() - t0;
      await until(`all ${clusters} PostgresClusters Running`, () => running.size >= clusters, 600_000);
      const allRunningMs = performance.now() - t0;
      const atRunning = requests.snapshot();
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      const creation = requests.snapshot();
      const conflicts = agent.store.journal.since(fromSeq).events.filter((e) => e.kind === 'conflict').length;
      const owned = OWNED_KINDS.reduce((s, kind) => s + agent.deps.owned[kind].list().length, 0);

      requests.reset();
      lease.requests.reset();
      const steadyFrom = performance.now();
      await new Promise((r) => setTimeout(r, steadyS * 1000));
      const steadyMin = (performance.now() - steadyFrom) / 60_000;
      const steady = requests.snapshot();
      const stillRunning = agent.store.getSnapshot().state?.clusters.filter((c) => c.phase === 'Running').length ?? 0;

      const times = [...running.values()].map((at) => at - t0);
      const podsReady = [...patroni.readyAt.values()].map((at) => at - t0);
      const reaction = [...running].map(([name, at]) => at - (patroni.readyAt.get(name) ?? Number.NaN));
      const perCluster = (n: number): number => n / clusters;
      const ownedWrite = (verb: string, resource: string): boolean =>
        isWrite(verb) && resource !== 'events' && !resource.startsWith('postgresclusters');
      Object.assign(result.metrics, {
        clusters,
        members_per_cluster: MEMBERS,
        create_requests_sent_ms: appliedMs,
        all_running_ms: allRunningMs,
        cluster_running_ms_p50: percentile(times, 50),
        cluster_running_ms_p99: percentile(times, 99),
        all_members_ready_ms: Math.max(...podsReady),
        cluster_members_ready_ms_p50: percentile(podsReady, 50),
        members_ready_to_running_ms_p50: percentile(reaction, 50),
        members_ready_to_running_ms_p99: percentile(reaction, 99),
        members_ready_to_running_ms_max: Math.max(...reaction),
        pods_labelled: patroni.labelled(),
        owned_objects_per_cluster: perCluster(owned),
        writes_per_cluster: perCluster(sum(creation, isWrite)),
        object_writes_per_cluster: perCluster(sum(creation, ownedWrite)),
        status_patches_per_cluster: perCluster(sum(creation, (v, r) => isWrite(v) && r === 'postgresclusters/status')),
        finalizer_patches_per_cluster: perCluster(sum(creation, (v, r) => isWrite(v) && r === 'postgresclusters')),
        conflict_retries_per_cluster: perCluster(conflicts),
        event_writes_per_cluster: perCluster(sum(creation, (v, r) => isWrite(v) && r === 'events')),
        writes_per_cluster_until_all_running: perCluster(sum(atRunning, isWrite)),
        steady_seconds: steadyS,
        steady_write_requests: sum(steady, isWrite),
        steady_requests_per_min: sum(steady, () => true) / steadyMin,
        steady_non_watch_requests_per_min: sum(steady, (v) => v !== 'watch') / steadyMin,
        steady_lease_requests_per_min: lease.requests.total() / steadyMin,
        clusters_running_after_steady: stillRunning,
      });
      result.notes.push(
        `the machine was shared with other work (2 cores, load average ${load} at the start): timings are noisy`,
        `${clusters} PostgresClusters of ${MEMBERS} members (${clusters * MEMBERS} pods, each with a claim bound to a static PersistentVolume) applied at once on a real kube-apiserver + controller-manager + scheduler with 3 kwok nodes`,
        'the bench stands in for Patroni: once a pod is Ready it labels it spilo-role=master (ordinal 0) or replica; a cluster is Running when the operator says so in its status (seen by a watch)',
        "members_ready: the cluster's last pod seen Ready (claims bound, scheduled, kwok's Ready: the control plane's part); members_ready_to_running: from then to Running in the status (the bench's label patch, then the operator's part: its watch, a reconcile, the status patch)",
        `requests are those the operator's client sent, by verb and resource (a watch counts once, when opened); creation = from the first apply until ${SETTLE_MS / 1000} s after all were Running; writes: ${WRITES.join(', ')}`,
        "conflict_retries: reconciles that failed with a conflict (the status patch carries the resourceVersion the pass observed; the cache had not yet seen the operator's previous write) and were retried: each is one of the status patches counted",
        `creation writes by kind: ${JSON.stringify(Object.fromEntries(Object.entries(creation).filter(([k]) => isWrite(k.split(' ')[0] ?? ''))))}`,
        `steady: ${steadyS} s with nothing changing (every key resyncs from the cache every 30 s); requests: ${JSON.stringify(steady)}; the Lease renewals go through the elector's own client, counted apart`,
        'no peer in this run: the replaced kube-rs operator and the Zalando/Crunchy/CloudNativePG operators are not runnable here (no images, no kubelet: kwok runs no containers)',
      );
    } finally {
      stop.abort();
      await agent.close();
    }
  } finally {
    await admin?.close();
    await lease?.close();
    await plane.stop();
  }
  return result;
}
