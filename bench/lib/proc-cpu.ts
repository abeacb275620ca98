import { readdirSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ, 100 on Linux). */
const TICKS_PER_S = 100;

/** CPU time (user + system, ms) of one process, from /proc; undefined once it is gone. */
function cpuMsOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the fields after the command name, which is in parentheses and may hold spaces
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_S;
  } catch {
    return undefined;
  }
}

/**
 * The processes whose command line mentions `marker` (a control plane's temp dir: every one of its
 * processes names it in a flag), by program name; plus any given by PID.
 */
export function processesMentioning(marker: string, extra: Readonly<Record<string, number>> = {}): Map<string, number> {
  const found = new Map<string, number>(Object.entries(extra));
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (argv.some((a) => a.includes(marker))) found.set(basename(argv[0] ?? entry), Number(entry));
  }
  return found;
}

/** CPU ms used by each process between two calls of the returned function (and by this process, as `bench`). */
export function cpuMeter(processes: ReadonlyMap<string, number>): () => Record<string, number> {
  const read = (): Record<string, number> => {
    const own = process.cpuUsage();
    const out: Record<string, number> = { bench: (own.user + own.system) / 1000 };
    for (const [name, pid] of processes) out[name] = cpuMsOf(pid) ?? Number.NaN;
    return out;
  };
  let last = read();
  return () => {
    const now = read();
    const used = Object.fromEntries(Object.entries(now).map(([k, v]) => [k, v - (last[k] ?? 0)]));
    last = now;
    return used;
  };
}
