import { citusInstallation, type CitusMode } from '../src/lab/procs/citus.js';
import { startKubeControlPlane } from '../src/lab/procs/kube-control-plane.js';
import { measureCitusSync, percentile, type CitusBenchSizes } from './lib/citus-sync-measure.js';
import { newResult, type BenchOptions, type BenchResult } from './report.js';

/**
 * Claim (issue 16): a pod becoming Ready has its node active in pg_dist_node within 500 ms (p99), a pod
 * gone or not ready has it disabled as fast, a burst of 50 pods Ready at once are all active within 5 s,
 * and the steady state costs the API server only watches (no relists, no polling). Real control plane
 * with kwok nodes; 20 pods backed by real Citus 13.2.2 workers, then 200 pods on the SQL stand-in.
 * Peer: the replaced tool, which scanned every 20 s (modeled: a uniform wait for the next scan plus the
 * same add). Sizes: `--citus-pods=N --standin-pods=N --burst=N --rounds=N --steady=SECONDS`.
 */
const SCAN_MS = 20_000;

function flag(args: readonly string[], name: string, fallback: number): number {
  const given = args.find((a) => a.startsWith(`--${name}=`));
  if (given === undefined) return fallback;
  const value = Number(given.slice(name.length + 3));
  if (!Number.isInteger(value) || value < 1) {
    process.stderr.write(`--${name}: expected a positive integer, got "${given.slice(name.length + 3)}"\n`);
    process.exit(2);
  }
  return value;
}

function sizesOf(options: BenchOptions): Record<CitusMode, CitusBenchSizes> {
  const { args, quick } = options;
  const rounds = flag(args, 'rounds', quick ? 1 : 2);
  const steadyS = flag(args, 'steady', quick ? 15 : 60);
  const of = (pods: number): CitusBenchSizes => ({
    pods,
    burst: Math.min(pods, flag(args, 'burst', quick ? pods : 50)),
    rounds,
    steadyS,
  });
  return {
    citus: of(flag(args, 'citus-pods', quick ? 5 : 20)),
    standin: of(flag(args, 'standin-pods', quick ? 5 : 200)),
  };
}

export async function run(options: BenchOptions): Promise<BenchResult> {
  const result = newResult('citus-sync');
  const sizes = sizesOf(options);
  const plane = await startKubeControlPlane({ nodes: 1 });
  const modes: CitusMode[] = citusInstallation().kind === 'installed' ? ['citus', 'standin'] : ['standin'];
  try {
    let sample: readonly number[] = [];
    for (const mode of modes) {
      const { metrics, ready } = await measureCitusSync(mode, sizes[mode], plane);
      const label = mode === 'citus' ? 'real_citus' : 'standin';
      for (const [k, v] of Object.entries(metrics)) result.metrics[`${label}_${k}`] = v;
      process.stderr.write(`citus-sync ${label} done: ${JSON.stringify(metrics)}\n`);
      if (mode === 'citus' || sample.length === 0) sample = ready;
    }
    const scanned = sample.map((l, i) => ((i * 7919) % SCAN_MS) + l);
    result.peers['20 s scan (modeled)'] = {
      ready_to_active_ms_p50: percentile(scanned, 50),
      ready_to_active_ms_p99: percentile(scanned, 99),
    };
  } finally {
    await plane.stop();
  }
  const { citus, standin } = sizes;
  result.notes.push(
    `pods on kwok nodes; real Citus: ${citus.pods} pods, each backed by its own real Citus 13.2.2 worker; stand-in: ${standin.pods} pods, ${20} per stand-in server (each pod under its own loopback address); disable policy`,
    'created_to_active: the pod create sent -> scheduled, made Ready by kwok -> its row isactive in pg_dist_node (polled every 5 ms): a citus_add_node',
    `ready_to_active: the pod's Ready status write sent -> row isactive, after a not-ready write (not_ready_to_disabled); ${citus.rounds} round(s) per pod: citus_activate_node / citus_disable_node`,
    `burst: ${citus.burst} (real Citus) / ${standin.burst} (stand-in) pods Ready at once -> all active; deleted_to_disabled: the pod's delete sent -> row inactive`,
    `steady: ${citus.steadyS} s with nothing changing, requests the agent's client sent, per minute (a watch counts once, when opened); the Lease renewals go through the elector's own client, counted apart`,
    'every membership change reaches every active metadata worker (Citus: 2PC over its cached connections; the stand-in: a ping on its kept connection to each, all in flight at once, once per node per transaction), so a change costs more the more workers are active',
    'the 20 s scan peer is modeled: each real-Citus ready sample plus a uniform wait for the next scan',
  );
  return result;
}
