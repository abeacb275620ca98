import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { PgdeckError } from '../../agents/kernel/errors.js';
import { checkoutFile } from '../../checkout-file.js';

export interface Attempt {
  readonly seq: number;
  readonly start: number;
  readonly end: number;
  readonly ok: boolean;
  readonly port: number | null;
}

export interface WriteProbe {
  readonly attempts: Attempt[];
  /** Attempts from index `from` on. */
  since(from: number): Attempt[];
  stop(): Promise<void>;
}

/** The probe script of the checkout (it is not compiled, so dist/ finds it under src/). */
function probeScript(): string {
  const script = checkoutFile(join('src', 'lab', 'workload', 'write-probe.py'));
  if (script === undefined)
    throw new PgdeckError('unavailable', 'src/lab/workload/write-probe.py not found beside this module');
  return script;
}

export interface WriteProbeOptions {
  /** The first sequence number minus one (default 0): probes writing into one table need disjoint ranges. */
  readonly firstSeq?: number;
  /** A command the probe runs under (`ip netns exec NS`): the probe connects from there. */
  readonly wrap?: readonly string[];
}

/** Starts the libpq write probe (Debian's python3 + psycopg2) against a multi-host list. */
export function startWriteProbe(
  hosts: string,
  ports: string,
  intervalMs = 20,
  options: WriteProbeOptions = {},
): WriteProbe {
  const argv = [
    ...(options.wrap ?? []),
    '/usr/bin/python3',
    probeScript(),
    hosts,
    ports,
    String(intervalMs / 1000),
    String(options.firstSeq ?? 0),
  ];
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'ignore'] });
  const attempts: Attempt[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => attempts.push(JSON.parse(line) as Attempt));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    attempts,
    since: (from) => attempts.slice(from),
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Kill to the end of the first INSERT acknowledged by a server other than the killed one (ms). */
export function recoveryTime(attempts: readonly Attempt[], killAt: number, killedPort: number): number | null {
  const first = attempts.find((a) => a.ok && a.start >= killAt && a.port !== killedPort);
  return first === undefined ? null : first.end - killAt;
}

/** The largest gap between two consecutive acknowledged writes around and after `from` (ms). */
export function unavailabilityWindow(attempts: readonly Attempt[], from: number, until: number): number {
  const acked = attempts.filter((a) => a.ok);
  let last = [...acked].reverse().find((a) => a.end <= from)?.end ?? from;
  let widest = 0;
  for (const a of acked) {
    if (a.end <= from || a.end > until) continue;
    widest = Math.max(widest, a.end - last);
    last = a.end;
  }
  return widest;
}

/** Acknowledged sequence numbers missing from the rows that survived. */
export function lostWrites(attempts: readonly Attempt[], surviving: ReadonlySet<number>): number[] {
  return attempts.filter((a) => a.ok && !surviving.has(a.seq)).map((a) => a.seq);
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
