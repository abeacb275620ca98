import { readFileSync } from 'node:fs';
import { TmuxTerminal } from '../../test/helpers/tmux.js';
import { percentile } from './citus-sync-measure.js';
import type { ConsoleKubeWorld } from './console-kube-world.js';

/** A console under test, driven the way a person drives it: keys into its terminal, the screen read back. */
export interface ConsoleUnderTest {
  readonly name: string;
  /** The shell command; it must `exec` the console, so the pane's process is the console's. */
  readonly command: string;
  readonly cwd: string;
  /** Keys from its first screen to the pod rows (pgdeck: its Citus view). */
  readonly open: readonly string[];
  /** The screen shows pod rows. */
  readonly rowsShown: (screen: string) => boolean;
}

export interface ConsoleSizes {
  readonly settleS: number;
  readonly idleS: number;
  readonly probes: number;
  readonly churnS: number;
  /** Creates and deletes per second, together. */
  readonly churnPerS: number;
}

const POLL_MS = 20;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(line?.split(/\s+/)[1] ?? Number.NaN) / 1024;
}

async function poll(term: TmuxTerminal, test: (screen: string) => boolean, timeoutMs: number): Promise<boolean> {
  for (const deadline = performance.now() + timeoutMs; performance.now() < deadline; await sleep(POLL_MS)) {
    try {
      if (test(term.screen())) return true;
    } catch {
      continue;
    }
  }
  return false;
}

/** CPU % of each pid over `seconds`, and the highest RSS seen (sampled every second). */
async function window(pids: Readonly<Record<string, number>>, seconds: number, during?: () => Promise<void>) {
  const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuMs(pid)]));
  const rss: Record<string, number> = {};
  const t0 = performance.now();
  const sample = (): void => {
    for (const [k, pid] of Object.entries(pids)) rss[k] = Math.max(rss[k] ?? 0, rssMb(pid));
  };
  const sampler = setInterval(sample, 1000);
  sample();
  try {
    await (during?.() ?? sleep(seconds * 1000));
  } finally {
    clearInterval(sampler);
  }
  const wall = performance.now() - t0;
  const cpu = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, ((cpuMs(pid) - before[k]!) / wall) * 100]));
  return { cpu, rss };
}

const round = (n: number): number => Math.round(n * 10) / 10;

/**
 * Launch to pod rows on screen; idle CPU and RSS; pod created -> its name on screen (the view filtered
 * to the probes, each probe created alone); CPU under creates+deletes at `churnPerS`. `also` are more
 * processes of the same side whose CPU and RSS count (pgdeck's daemon).
 */
export async function measureConsole(
  subject: ConsoleUnderTest,
  world: ConsoleKubeWorld,
  sizes: ConsoleSizes,
  also: Readonly<Record<string, number>> = {},
): Promise<Record<string, number>> {
  const started = performance.now();
  const term = TmuxTerminal.start(subject.command, { cwd: subject.cwd, columns: 160, rows: 48, prefix: 'bench-ck' });
  try {
    if (!(await poll(term, (s) => s.trim().length > 0, 60_000))) throw new Error(`${subject.name}: no screen in 60 s`);
    term.keys(...subject.open);
    if (!(await poll(term, subject.rowsShown, 120_000)))
      throw new Error(`${subject.name}: no pod rows in 120 s; the screen was:\n${term.last}`);
    const launchMs = performance.now() - started;
    const pid = Number(term.pane('pane_pid'));
    const pids = { console: pid, ...also };
    await sleep(sizes.settleS * 1000);
    const idle = await window(pids, sizes.idleS);

    term.keys('/', ...'probe'.split(''), 'Enter');
    await sleep(1000);
    const latencies: number[] = [];
    const prefix = `probe-${subject.name.replace(/[^a-z0-9]/g, '')}-`;
    for (let i = 0; i < sizes.probes; i++) {
      const name = `${prefix}${String(i).padStart(3, '0')}`;
      const sent = await world.pods.create(name, `10.78.0.${i + 1}:5432`);
      const seen = new RegExp(`\\b${name}\\b`);
      if (await poll(term, (s) => seen.test(s), 15_000)) latencies.push(performance.now() - sent);
      await sleep(200);
    }
    term.keys('Escape');
    await sleep(1000);

    const churned: string[] = [];
    const every = 1000 / (sizes.churnPerS / 2);
    const churn = async (): Promise<void> => {
      const end = performance.now() + sizes.churnS * 1000;
      for (let i = 0; performance.now() < end; i++) {
        const tick = performance.now();
        const name = `churn-${subject.name.replace(/[^a-z0-9]/g, '')}-${i}`;
        churned.push(name);
        await Promise.all([
          world.pods.create(name, `10.79.${i >> 8}.${i & 255}:5432`),
          ...(i >= 10 ? [world.pods.delete(churned[i - 10]!)] : []),
        ]);
        await sleep(Math.max(0, every - (performance.now() - tick)));
      }
    };
    const busy = await window(pids, sizes.churnS, churn);
    for (const name of [
      ...churned.slice(-10),
      ...Array.from({ length: sizes.probes }, (_, i) => `${prefix}${String(i).padStart(3, '0')}`),
    ])
      await world.pods.delete(name).catch(() => undefined);

    const out: Record<string, number> = {
      launch_to_rows_ms: Math.round(launchMs),
      rss_max_mb: round(Math.max(idle.rss.console!, busy.rss.console!)),
      idle_cpu_pct: round(idle.cpu.console!),
      churn_cpu_pct: round(busy.cpu.console!),
      created_to_screen_ms_p50: Math.round(percentile(latencies, 50)),
      created_to_screen_ms_p95: Math.round(percentile(latencies, 95)),
      probes_seen: latencies.length,
    };
    for (const name of Object.keys(also)) {
      out[`${name}_rss_max_mb`] = round(Math.max(idle.rss[name]!, busy.rss[name]!));
      out[`${name}_idle_cpu_pct`] = round(idle.cpu[name]!);
      out[`${name}_churn_cpu_pct`] = round(busy.cpu[name]!);
    }
    return out;
  } finally {
    term.kill();
  }
}
