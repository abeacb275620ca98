import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { percentile } from '../src/lab/workload/write-probe.js';
import { newResult, type BenchOptions, type BenchResult } from './report.js';

const TOKEN = 'attach-bench-token-0123456789';
const COLUMNS = 160;
const ROWS = 48;

interface Launch {
  /** Spawn to the first frame written to the pty (the header). */
  readonly firstFrameMs: number;
  /** Spawn to the first frame showing every source live with its data. */
  readonly dataFrameMs: number;
  /** CPU time (user + system) of the node process when its first frame arrived: less bent by a loaded machine. */
  readonly firstFrameCpuMs: number;
}

/**
 * The real `pgdeck attach` (the built `dist/main.js`, run by node with the binary's flags) in a
 * pseudo-terminal (`script`) of 160x48, attached to six failover-shaped daemons of two clusters served
 * over the real wire by another process: spawn to the first frame, and to the first frame with all six
 * sources live. `--peer=NAME:PATH` measures another build of the CLI in the same run.
 */
export async function run(options: BenchOptions): Promise<BenchResult> {
  const runs = options.quick ? 5 : 15;
  const root = fileURLToPath(new URL('../', import.meta.url));
  const cli = join(root, 'dist/main.js');
  if (!existsSync(cli)) throw new Error('bench attach: no dist/main.js; run `npm run build` first');
  const peers = options.args
    .filter((a) => a.startsWith('--peer='))
    .map((a) => a.slice('--peer='.length).split(':') as [string, string]);
  const daemons = await startDaemons();
  try {
    const measure = async (script: string, args: readonly string[], until: string): Promise<Launch[]> => {
      const launches: Launch[] = [];
      for (let i = 0; i < runs; i++) launches.push(await launch(script, args, until));
      return launches;
    };
    const attach = ['attach', ...daemons.urls];
    const live = `sources ${daemons.urls.length}/${daemons.urls.length} live`;
    // the floor: node itself, the same pty and shell, a script that writes one line and exits
    const floor = await measure('-e', ['process.stdout.write("pgdeck\\n")'], 'pgdeck');
    const version = await measure(cli, ['--version'], readVersion(root));
    const ours = await measure(cli, attach, live);
    const result = newResult('attach');
    Object.assign(result.metrics, figures(ours), {
      version_exit_p50_ms: round(percentile(firstFrames(version), 50)),
      node_floor_p50_ms: round(percentile(firstFrames(floor), 50)),
      runs,
    });
    for (const [name, path] of peers) result.peers[name] = figures(await measure(path, attach, live));
    result.notes.push(
      `the built CLI (${cli}) run as \`node ${nodeFlagsOfTheBinary().join(' ')} dist/main.js attach URL x${daemons.urls.length}\` in a ${COLUMNS}x${ROWS} pty (util-linux script), NODE_ENV unset (the CLI sets production), ${runs} launches one after another`,
      'first_frame: spawn to the first frame written (the header); first_data_frame: spawn to the first frame showing every source live with its state, over the real wire (GET /state + SSE) from six daemons of two clusters in another process',
      'first_frame_cpu: user + system CPU of the node process (from /proc, 10 ms ticks) when its first frame arrived: on a loaded machine the wall times stretch with the load, the CPU much less',
      'version_exit: spawn to `pgdeck --version` printed (yargs and config loading, no UI); node_floor: spawn to one line from `node -e` through the same pty, the fixed cost of node, sh and script',
      'target: first frame <= 700 ms',
    );
    return result;
  } finally {
    await daemons.close();
  }
}

function figures(launches: readonly Launch[]): Record<string, number> {
  const data = launches.map((l) => l.dataFrameMs);
  return {
    first_frame_p50_ms: round(percentile(firstFrames(launches), 50)),
    first_frame_p95_ms: round(percentile(firstFrames(launches), 95)),
    first_frame_min_ms: round(Math.min(...firstFrames(launches))),
    first_frame_cpu_p50_ms: round(
      percentile(
        launches.map((l) => l.firstFrameCpuMs),
        50,
      ),
    ),
    first_data_frame_p50_ms: round(percentile(data, 50)),
    first_data_frame_p95_ms: round(percentile(data, 95)),
  };
}

const firstFrames = (launches: readonly Launch[]): number[] => launches.map((l) => l.firstFrameMs);

/** One launch in a fresh pty: times to the first output and to the first output holding `until`, then `q`. */
async function launch(script: string, args: readonly string[], until: string): Promise<Launch> {
  const node = [process.execPath, ...nodeFlagsOfTheBinary(), script, ...args].map(shellQuote).join(' ');
  const env: NodeJS.ProcessEnv = { ...process.env, PGDECK_TOKEN: TOKEN };
  delete env.NODE_ENV;
  delete env.CI;
  const started = performance.now();
  const child = spawn('script', ['-qfec', `stty cols ${COLUMNS} rows ${ROWS}; exec ${node}`, '/dev/null'], {
    env,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let text = '';
  let firstFrameMs: number | undefined;
  let firstFrameCpuMs = Number.NaN;
  const dataFrameMs = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`bench attach: no "${until}" within 30 s:\n${text}`)), 30_000);
    child.stdout.on('data', (chunk: Buffer) => {
      const now = performance.now() - started;
      if (firstFrameMs === undefined) {
        firstFrameMs = now;
        firstFrameCpuMs = childCpuMs(child.pid);
      }
      text += chunk.toString('utf8');
      if (text.includes(until)) {
        clearTimeout(timer);
        resolve(now);
      }
    });
  });
  const exited = once(child, 'exit');
  child.stdin.write('q');
  const quit = await Promise.race([exited.then(() => true), wait(10_000).then(() => false)]);
  if (!quit) {
    child.kill('SIGKILL');
    await exited;
  }
  return { firstFrameMs: firstFrameMs ?? dataFrameMs, dataFrameMs, firstFrameCpuMs };
}

/** user + system CPU of script's child (sh exec'd into node), from /proc, in 10 ms ticks. */
function childCpuMs(scriptPid: number | undefined): number {
  try {
    const [pid] = readFileSync(`/proc/${scriptPid}/task/${scriptPid}/children`, 'utf8').trim().split(/\s+/);
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

/** The six daemons of the tui bench (bench/lib/tui-daemons.ts), compiled to plain JS, in a child process. */
async function startDaemons(): Promise<{ urls: string[]; close(): Promise<void> }> {
  const outfile = fileURLToPath(new URL('./.build/attach-daemons.mjs', import.meta.url));
  await build({
    entryPoints: [fileURLToPath(new URL('./lib/tui-daemons.ts', import.meta.url))],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    target: 'node20',
    logLevel: 'error',
  });
  const child = spawn(process.execPath, [outfile, TOKEN], { stdio: ['pipe', 'pipe', 'inherit'] });
  const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
  const { urls } = JSON.parse(line) as { urls: string[] };
  return {
    urls,
    close: async () => {
      const exited = once(child, 'exit');
      child.stdin.end();
      await exited;
    },
  };
}

function readVersion(root: string): string {
  return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
}

/** The V8 flags the `pgdeck` binary runs with (its shebang line). */
function nodeFlagsOfTheBinary(): string[] {
  const shebang = readFileSync(fileURLToPath(new URL('../src/main.ts', import.meta.url)), 'utf8').split('\n')[0]!;
  return shebang.split(/\s+/).filter((word) => word.startsWith('--'));
}

const shellQuote = (word: string): string => `'${word.replace(/'/g, `'\\''`)}'`;
const wait = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
