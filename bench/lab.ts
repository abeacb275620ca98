import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChaosReport } from '../src/lab/stack/chaos.js';
import { netnsUnavailable } from '../src/lab/procs/netns.js';
import { CHAOS_ACTIONS } from '../src/lab/stack/chaos.js';
import type { LabState } from '../src/lab/stack/state.js';
import { percentile } from '../src/lab/workload/write-probe.js';
import { newResult, type BenchOptions, type BenchResult } from './report.js';

const main = join(process.cwd(), 'dist', 'main.js');

function lab(dir: string, args: readonly string[]): Promise<{ code: number | null; stdout: string }> {
  const child = spawn(process.execPath, [main, 'lab', ...args, '--dir', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout })));
}

/** `lab up` to its ready line (ms), then, with the Kubernetes parts, on until they are ready too. */
async function upOnce(dir: string, kube: boolean): Promise<{ readyMs: number; kubeMs: number | null }> {
  const started = performance.now();
  const up = await lab(dir, ['up', '-o', 'json', ...(kube ? [] : ['--no-kube'])]);
  if (up.code !== 0) throw new Error(`lab up exited ${up.code}`);
  const readyMs = performance.now() - started;
  if (!kube) return { readyMs, kubeMs: null };
  for (;;) {
    const state = JSON.parse((await lab(dir, ['status', '-o', 'json'])).stdout) as LabState;
    const phase = state.components.find((c) => c.name === 'kube')?.phase;
    if (phase === 'ready') return { readyMs, kubeMs: performance.now() - started };
    if (phase === 'failed' || phase === 'skipped') throw new Error(`kube ${phase}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const stats = (values: readonly number[]): { p50: number; min: number; max: number } => ({
  p50: percentile(values, 50),
  min: Math.min(...values),
  max: Math.max(...values),
});

/**
 * `npm run bench -- lab`: time from `pgdeck lab up` to usable (without and with the Kubernetes
 * parts; the first run is the coldest this machine gives, the rest warm), then one chaos drill of
 * each kind on a synchronous lab, with the drill's own numbers.
 */
export async function run(opts: BenchOptions): Promise<BenchResult> {
  const result = newResult('lab');
  // The first run is the cold one; a warm figure needs at least one more.
  const runs = opts.quick ? 2 : 4;
  const dir = join(mkdtempSync(join(tmpdir(), 'pgdeck-benchlab-')), 'lab');
  const downMs: number[] = [];
  const down = async (): Promise<void> => {
    const started = performance.now();
    await lab(dir, ['down']);
    downMs.push(performance.now() - started);
  };
  for (const kube of [false, true]) {
    const warm: number[] = [];
    const key = kube ? 'with_kube' : 'no_kube';
    for (let i = 0; i < runs; i++) {
      const r = await upOnce(dir, kube);
      const ms = r.kubeMs ?? r.readyMs;
      if (i === 0) result.metrics[`${key}_cold_up_ms`] = Math.round(ms);
      else warm.push(ms);
      if (kube) result.metrics[`with_kube_core_ready_ms_run${i + 1}`] = Math.round(r.readyMs);
      await down();
    }
    const s = stats(warm);
    result.metrics[`${key}_warm_up_p50_ms`] = Math.round(s.p50);
    result.metrics[`${key}_warm_up_max_ms`] = Math.round(s.max);
  }
  result.metrics.down_p50_ms = Math.round(percentile(downMs, 50));
  result.metrics.down_max_ms = Math.round(Math.max(...downMs));
  const noNetns = netnsUnavailable();
  await lab(dir, ['up', '-o', 'json', '--synchronous', '--no-kube', ...(noNetns === null ? ['--netns'] : [])]);
  for (const action of CHAOS_ACTIONS) {
    if (action === 'restart-apiserver') continue;
    if ((action === 'partition' || action === 'heal') && noNetns !== null) {
      result.notes.push(`chaos ${action}: skipped, --netns ${noNetns}`);
      continue;
    }
    await drill(dir, action, result);
  }
  await down();
  // The API server drill needs the Kubernetes parts: a lab of its own, up until kube is ready.
  await upOnce(dir, true);
  await drill(dir, 'restart-apiserver', result);
  await down();
  result.notes.push(
    `${runs} run(s) per configuration, the first cold (what this machine gives: the control-plane binaries are already built), the rest warm; with_kube_* is until the kube component is ready, with_kube_core_ready_* until \`lab up\` returned`,
    'drills on a synchronous lab (with --netns when root and iproute2 allow), restart-apiserver on a lab with the Kubernetes parts',
    `targets: warm up <= 15 s without the Kubernetes parts, <= 25 s with them; machine shared (load average ${loadavg()[0]!.toFixed(1)} at the end)`,
  );
  return result;
}

async function drill(dir: string, action: string, result: BenchResult): Promise<void> {
  const out = await lab(dir, ['chaos', action, '-o', 'json']);
  if (out.code !== 0) {
    result.notes.push(`chaos ${action} failed (exit ${out.code})`);
    return;
  }
  const r = JSON.parse(out.stdout) as ChaosReport;
  const put = (name: string, value: number | null): void => {
    if (value !== null) result.metrics[`${action}_${name}`] = value;
  };
  put('recovery_ms', r.recoveryMs);
  put('outage_ms', r.outageMs);
  put('healed_ms', r.healedMs);
  put('writes_failed', r.writesFailed);
  put('writes_lost', r.writesLost);
  result.notes.push(
    `${action}: ${r.detail}; failover ${r.failover === null ? 'none' : `${r.failover.from} -> ${r.failover.to}`}`,
  );
}
