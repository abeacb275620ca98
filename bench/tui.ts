import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { percentile } from '../src/lab/workload/write-probe.js';
import { newResult, type BenchOptions, type BenchResult } from './report.js';

interface Raw {
  firstFrameMs: number;
  changes: number;
  frames: number;
  wallMs: number;
  cpuPercent: number;
  idleCpuPercent: number;
  rssMb: number;
  changeToFrame: number[];
  flushToFrame: number[];
}

/** The console under load: 1,000 rows in a view, 1,000 journal events a second; then idle. */
export async function run(options: BenchOptions): Promise<BenchResult> {
  const seconds = options.quick ? 5 : 20;
  const idle = options.quick ? 5 : 10;
  const driver = await compileDriver();
  const flags = nodeFlagsOfTheBinary();
  const resultFile = join(dirname(driver), 'tui-driver.json');
  rmSync(resultFile, { force: true });
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [...flags, driver, '1000', String(seconds), String(idle), resultFile], {
      env: envWithoutCi(),
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`tui driver exited ${code}`))));
  });
  const raw = JSON.parse(readFileSync(resultFile, 'utf8')) as Raw;
  const result = newResult('tui');
  Object.assign(result.metrics, {
    first_frame_ms: round(raw.firstFrameMs),
    events_per_s: round(raw.changes / (raw.wallMs / 1000)),
    frames_per_s: round(raw.frames / (raw.wallMs / 1000)),
    flush_to_frame_p50_ms: round(percentile(raw.flushToFrame, 50)),
    flush_to_frame_p95_ms: round(percentile(raw.flushToFrame, 95)),
    change_to_frame_p50_ms: round(percentile(raw.changeToFrame, 50)),
    change_to_frame_p95_ms: round(percentile(raw.changeToFrame, 95)),
    cpu_percent_under_load: round(raw.cpuPercent),
    idle_cpu_percent: round(raw.idleCpuPercent),
    max_rss_mb: round(raw.rssMb),
  });
  result.notes.push(
    `${seconds} s of 1,000 journal events/s into the Events view holding 1,000 rows, fake 160x48 TTY, NODE_ENV=production, the driver compiled to one JS file (esbuild, node_modules external) and run by node with the binary's flags (${flags.join(' ')})`,
    'flush_to_frame: UI store flush (setState) to the frame written: the render cost; change_to_frame adds the store coalescing (at most 10 flushes/s), so its p95 is bounded below by ~100 ms by design',
    'first_frame_ms: process start to the first frame written',
    'targets: p95 <= 20 ms, idle CPU <= 1 %, RSS <= 150 MB, first frame <= 700 ms',
  );
  return result;
}

/** The driver and the console compiled like the built CLI (plain JS), so tsx's loader is not measured. */
async function compileDriver(): Promise<string> {
  const outfile = fileURLToPath(new URL('./.build/tui-driver.mjs', import.meta.url));
  await build({
    entryPoints: [fileURLToPath(new URL('./lib/tui-driver.tsx', import.meta.url))],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    target: 'node20',
    jsx: 'automatic',
    logLevel: 'error',
  });
  return outfile;
}

/** The V8 flags the `pgdeck` binary runs with (its shebang line), so the driver runs like it. */
function nodeFlagsOfTheBinary(): string[] {
  const shebang = readFileSync(fileURLToPath(new URL('../src/main.ts', import.meta.url)), 'utf8').split('\n')[0]!;
  return shebang.split(/\s+/).filter((word) => word.startsWith('--'));
}

/** Ink writes only the last frame when CI is set at all, so the driver runs without it. */
function envWithoutCi(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'production' };
  delete env.CI;
  return env;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
