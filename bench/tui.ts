import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
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

interface AttachedRaw {
  sources: number;
  firstLiveMs: number;
  firstFrameMs: number;
  frames: number;
  wallMs: number;
  cpuPercent: number;
  idleCpuPercent: number;
  rssMb: number;
  flushToFrame: number[];
  backOnScreenMs: number;
  downMs: number;
}

/**
 * The console under load: in-process, 1,000 rows in a view and 1,000 journal events a second, then
 * idle; attached, the same over the wire from six daemons of two clusters, then one restarted.
 */
export async function run(options: BenchOptions): Promise<BenchResult> {
  const seconds = options.quick ? 5 : 20;
  const idle = options.quick ? 5 : 10;
  const build = await compileDrivers();
  const raw = await runDriver<Raw>(build.inProcess, ['1000', String(seconds), String(idle)]);
  const attached = await runDriver<AttachedRaw>(build.attached, [
    '1000',
    String(seconds),
    String(idle),
    '{result}',
    build.daemons,
  ]);
  const flags = nodeFlagsOfTheBinary();
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
    attached_sources: attached.sources,
    attached_first_live_ms: round(attached.firstLiveMs),
    attached_frames_per_s: round(attached.frames / (attached.wallMs / 1000)),
    attached_flush_to_frame_p50_ms: round(percentile(attached.flushToFrame, 50)),
    attached_flush_to_frame_p95_ms: round(percentile(attached.flushToFrame, 95)),
    attached_cpu_percent_under_load: round(attached.cpuPercent),
    attached_idle_cpu_percent: round(attached.idleCpuPercent),
    attached_max_rss_mb: round(attached.rssMb),
    attached_restart_back_on_screen_ms: round(attached.backOnScreenMs),
  });
  result.notes.push(
    `${seconds} s of 1,000 journal events/s into the Events view holding 1,000 rows, fake 160x48 TTY, NODE_ENV=production, the driver compiled to one JS file (esbuild, node_modules external) and run by node with the binary's flags (${flags.join(' ')})`,
    'flush_to_frame: UI store flush (setState) to the frame written: the render cost; change_to_frame adds the store coalescing (at most 10 flushes/s), so its p95 is bounded below by ~100 ms by design',
    'first_frame_ms: process start to the first frame written',
    'targets: p95 <= 20 ms, idle CPU <= 1 %, RSS <= 150 MB, first frame <= 700 ms',
    `attached_*: the console (one process, the binary's flags) attached over the real wire to six failover-shaped daemons of two clusters (a, b; members pg0..pg2) served by another process, ${seconds} s of 1,000 journal events/s spread over the six, Events view, fake 160x48 TTY; idle CPU over ${idle} s with heartbeats only; then daemon b/pg0 down for ${attached.downMs / 1000} s and restarted (a new process: new instance, journal started over): restart_back_on_screen is from its listening again to the first frame after it is live with the new state (target <= 3 s; the attach backoff caps at 2 s)`,
  );
  return result;
}

/** Runs a compiled driver with the binary's flags; `{result}` in `args` (else appended) names its JSON file. */
async function runDriver<T>(driver: string, args: readonly string[]): Promise<T> {
  const resultFile = `${driver}.json`;
  rmSync(resultFile, { force: true });
  const argv = args.includes('{result}') ? args.map((a) => (a === '{result}' ? resultFile : a)) : [...args, resultFile];
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeFlagsOfTheBinary(), driver, ...argv], {
      env: envWithoutCi(),
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${driver} exited ${code}`))));
  });
  return JSON.parse(readFileSync(resultFile, 'utf8')) as T;
}

/** The drivers, the daemons and the console compiled like the built CLI (plain JS), so tsx's loader is not measured. */
async function compileDrivers(): Promise<{ inProcess: string; attached: string; daemons: string }> {
  const outdir = fileURLToPath(new URL('./.build/', import.meta.url));
  const entry = (name: string): string => fileURLToPath(new URL(`./lib/${name}`, import.meta.url));
  await build({
    entryPoints: [entry('tui-driver.tsx'), entry('tui-attached-driver.tsx'), entry('tui-daemons.ts')],
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    target: 'node20',
    jsx: 'automatic',
    logLevel: 'error',
  });
  return {
    inProcess: join(outdir, 'tui-driver.mjs'),
    attached: join(outdir, 'tui-attached-driver.mjs'),
    daemons: join(outdir, 'tui-daemons.mjs'),
  };
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
