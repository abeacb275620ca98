import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { get } from 'node:http';
import { dirname, join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface HealthSample {
  /** ms since epoch the request started. */
  readonly at: number;
  readonly ms: number;
  readonly ok: boolean;
  /** From the prober in its own process: TCP handshake, then connect to the whole answer (ms). */
  readonly connectMs?: number;
  readonly responseMs?: number;
  /** How late the prober's own 5 ms tick ran during the sample: its share of `ms`. */
  readonly selfLagMs?: number;
}

/** One `GET /health` on a new connection (as a probe makes it), timed. */
function probeHealth(url: string, timeoutMs: number): Promise<HealthSample> {
  const at = Date.now();
  const started = performance.now();
  return new Promise((resolve) => {
    const done = (ok: boolean): void => resolve({ at, ms: performance.now() - started, ok });
    const req = get(`${url}/health`, { agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.once('end', () => done(res.statusCode === 200));
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => done(false));
  });
}

/** Samples `/health` every `intervalMs` (the next starts when the last answered, at the earliest one interval later). */
export function sampleHealth(url: string, intervalMs = 20): { stop(): Promise<HealthSample[]> } {
  const samples: HealthSample[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const sample = await probeHealth(url, 10_000);
      samples.push(sample);
      const wait = intervalMs - sample.ms;
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return samples;
    },
  };
}

const proberScript = join(dirname(fileURLToPath(import.meta.url)), 'health-prober.ts');

/**
 * The same sampling from a child process of its own (bench/lib/health-prober.ts), so that nothing this
 * process does (the write probe, the cluster's pipes, the other sampler) delays a sample: the one
 * that counts. Resolves once the child is sampling.
 */
export async function sampleHealthApart(url: string, intervalMs = 20): Promise<{ stop(): Promise<HealthSample[]> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', proberScript, url, String(intervalMs)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  let samples: HealthSample[] = [];
  const ready = once(lines, 'line');
  lines.on('line', (line) => {
    if (line.startsWith('[')) samples = JSON.parse(line) as HealthSample[];
  });
  await ready;
  return {
    stop: async () => {
      const exited = once(child, 'exit');
      child.stdin.end();
      await exited;
      return samples;
    },
  };
}

/** The longest this process's event loop was late (ms) between `start()` and `stop()`. */
export function ownLoopLag(): { stop(): number } {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  return {
    stop: () => {
      histogram.disable();
      return histogram.max / 1e6;
    },
  };
}

/** The daemon's V8 heap (used, total), external memory and RSS in bytes, from its `/metrics` (prom-client's defaults). */
export async function heapOf(url: string): Promise<{ used: number; total: number; external: number; rss: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const gauge = (name: string): number => {
    const match = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
    return match === null ? Number.NaN : Number(match[1]);
  };
  return {
    used: gauge('nodejs_heap_size_used_bytes'),
    total: gauge('nodejs_heap_size_total_bytes'),
    external: gauge('nodejs_external_memory_bytes'),
    rss: gauge('process_resident_memory_bytes'),
  };
}

/** Resident set size of a process in bytes, from /proc (NaN when it is gone). */
export function rssBytes(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? Number.NaN : Number(match[1]) * 1024;
  } catch {
    return Number.NaN;
  }
}

/** CPU time (user + system) a process has used, in ms, from /proc (clock ticks of 10 ms; NaN when gone). */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

/**
 * The daemon's own event-loop delay since the previous scrape of its `/metrics` (prom-client resets
 * its histogram on every scrape), in ms: max and p99.
 */
export async function loopLag(url: string): Promise<{ readonly maxMs: number; readonly p99Ms: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const gauge = (name: string): number => {
    const match = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
    return match === null ? Number.NaN : Number(match[1]) * 1000;
  };
  return { maxMs: gauge('nodejs_eventloop_lag_max_seconds'), p99Ms: gauge('nodejs_eventloop_lag_p99_seconds') };
}

export interface SubscriberReport {
  readonly answered: number;
  readonly accepted: number;
  readonly refused: number;
  readonly failed: number;
  readonly bytes: number;
  readonly snapshots: number;
  readonly firstSnapshotMs: readonly number[];
}

const script = join(dirname(fileURLToPath(import.meta.url)), 'wire-subscribers.ts');

/**
 * `n` event-stream readers in a child process at nice 10 (so their parsing neither loads this
 * one's clock nor takes the cluster's CPU first), started and waiting: `go()` makes them all connect
 * at once.
 */
export async function subscribers(
  url: string,
  token: string,
  n: number,
): Promise<{ go(): void; latest(): SubscriberReport | undefined; stop(): Promise<SubscriberReport | undefined> }> {
  // Niced: in production these readers run elsewhere; here they share the cluster's two cores.
  const child = spawn('nice', ['-n', '10', process.execPath, '--import', 'tsx', script, url, token, String(n)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let latest: SubscriberReport | undefined;
  const lines = createInterface({ input: child.stdout });
  const ready = once(lines, 'line');
  lines.on('line', (line) => {
    if (line.startsWith('{')) latest = JSON.parse(line) as SubscriberReport;
  });
  await ready;
  return {
    go: () => void child.stdin.write('go\n'),
    latest: () => latest,
    stop: async () => {
      const exited = once(child, 'exit');
      child.stdin.end();
      await exited;
      return latest;
    },
  };
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}
