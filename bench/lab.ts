import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChaosReport } from '../src/lab/stack/chaos.js';
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
  const runs = opts.quick ? 1 : 3;
  const dir = join(mkdtempSync(join(tmpdir(), 'pgdeck-benchlab-')), 'lab');
  for (const kube of [false, true]) {
    const ready: number[] = [];
    const kubeReady: number[] = [];
    for (let i = 0; i < runs; i++) {
      const r = await upOnce(dir, kube);
      if (i === 0) result.metrics[`${kube ? 'with_kube' : 'no_kube'}_first_up_ms`] = Math.round(r.kubeMs ?? r.readyMs);
      ready.push(r.readyMs);
      if (r.kubeMs !== null) kubeReady.push(r.kubeMs);
      const last = kube && i === runs - 1;
      if (!last) await lab(dir, ['down']);
    }
    const s = stats(kube ? kubeReady : ready);
    const key = kube ? 'with_kube_up' : 'no_kube_up';
    result.metrics[`${key}_p50_ms`] = Math.round(s.p50);
    result.metrics[`${key}_min_ms`] = Math.round(s.min);
    result.metrics[`${key}_max_ms`] = Math.round(s.max);
  }
  await lab(dir, ['down']);
  await lab(dir, ['up', '-o', 'json', '--synchronous']);
  for (const action of CHAOS_ACTIONS) {
    const out = await lab(dir, ['chaos', action, '-o', 'json']);
    if (out.code !== 0) {
      result.notes.push(`chaos ${action} failed (exit ${out.code})`);
      continue;
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
  await lab(dir, ['down']);
  result.notes.push(
    `${runs} run(s) per configuration; targets: warm up <= 15 s without the Kubernetes parts, <= 25 s with them`,
  );
  return result;
}
