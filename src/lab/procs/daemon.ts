import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { PgdeckError } from '../../agents/kernel/errors.js';
import { isAlive, type ServiceDir } from './service-dir.js';

export type { RunAs } from '../../agents/failover/pg-tools.js';
import type { RunAs } from '../../agents/failover/pg-tools.js';

export interface Daemon {
  readonly pid: number;
  readonly logFile: string;
  /** Where this start's output begins in `logFile` (the file is appended to across restarts). */
  readonly logOffset: number;
  readonly exited: Promise<number | null>;
  signal(sig: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

export interface DaemonSpec {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly dir: ServiceDir;
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly runAs?: RunAs;
}

/** Starts a long-running server process with its output in `<dir>/<name>.log`, recorded for sweeping. */
export function startDaemon(spec: DaemonSpec): Daemon {
  const logFile = join(spec.dir.path, `${spec.name}.log`);
  const fd = openSync(logFile, 'a');
  const logOffset = statSync(logFile).size;
  let child: ChildProcess;
  try {
    child = spawn(spec.command, spec.args, {
      cwd: spec.cwd ?? spec.dir.path,
      env: spec.env ?? process.env,
      stdio: ['ignore', fd, fd],
      detached: true,
      ...(spec.runAs === undefined ? {} : { uid: spec.runAs.uid, gid: spec.runAs.gid }),
    });
  } finally {
    closeSync(fd);
  }
  const pid = child.pid;
  if (pid === undefined)
    throw new PgdeckError(
      'unavailable',
      `could not start ${spec.command}: is it installed? (scripts/setup installs it)`,
    );
  spec.dir.recordPid(pid);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      spec.dir.forgetPid(pid);
      resolve(code);
    });
    child.once('error', () => resolve(null));
  });
  child.unref();
  return {
    pid,
    logFile,
    logOffset,
    exited,
    signal: (sig) => {
      if (isAlive(pid)) process.kill(pid, sig);
    },
    stop: async (graceMs = 5000) => {
      if (!isAlive(pid)) return;
      process.kill(pid, 'SIGTERM');
      const done = await Promise.race([exited.then(() => true), delay(graceMs).then(() => false)]);
      if (!done && isAlive(pid)) {
        process.kill(pid, 'SIGKILL');
        while (isAlive(pid)) await delay(10);
      }
      await Promise.race([exited, delay(exitEventGraceMs)]);
    },
  };
}

/** After a process is gone, how long `stop` waits for its exit event (which forgets its pid). */
const exitEventGraceMs = 1000;

export interface WaitWatch {
  /** Its last lines are quoted when the wait times out. */
  readonly logFile?: string;
  /** Only lines from this byte offset on are quoted (a restarted daemon's own, not its predecessor's). */
  readonly logFrom?: number;
  /** Fail at once, quoting its log, when one of these exits (a port taken meanwhile, a bad flag). */
  readonly processes?: readonly { readonly name: string; readonly daemon: Daemon }[];
  readonly signal?: AbortSignal;
  readonly intervalMs?: number;
}

/** Polls `probe` until it returns true; fails on timeout, abort, or a watched process exiting, with log lines. */
export async function waitUntil(
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs: number,
  watch: WaitWatch = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (watch.signal?.aborted === true) throw new PgdeckError('aborted', `aborted while waiting for ${what}`);
    const dead = watch.processes?.find((p) => !isAlive(p.daemon.pid));
    if (dead !== undefined)
      throw new PgdeckError(
        'unavailable',
        `${dead.name} exited while waiting for ${what}; last log lines:\n${logTail(dead.daemon.logFile, 8, dead.daemon.logOffset)}`,
      );
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) {
      const tail =
        watch.logFile === undefined ? '' : `; last log lines:\n${logTail(watch.logFile, 8, watch.logFrom ?? 0)}`;
      throw new PgdeckError('timeout', `${what} was not ready after ${timeoutMs} ms${tail}`);
    }
    await delay(watch.intervalMs ?? 50);
  }
}

/** The last `lines` lines of `file` written after byte offset `from`. */
export function logTail(file: string, lines: number, from = 0): string {
  try {
    const text = readFileSync(file).subarray(from).toString('utf8').trimEnd();
    return text === '' ? '(nothing logged yet)' : text.split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Every process's direct children, read from /proc. */
function childrenByParent(): Map<number, number[]> {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      continue;
    }
  }
  return children;
}

/** The direct children of `pid` (a postmaster's backends and auxiliary processes, say). */
export const childPids = (pid: number): number[] => childrenByParent().get(pid) ?? [];

/** Signals `pid` and then every descendant (found through /proc), so a postmaster dies before its backends. */
export function killTree(pid: number, sig: NodeJS.Signals): void {
  const children = childrenByParent();
  const order: number[] = [];
  const visit = (p: number): void => {
    order.push(p);
    for (const c of children.get(p) ?? []) visit(c);
  };
  visit(pid);
  for (const p of order) {
    try {
      process.kill(p, sig);
    } catch {
      continue;
    }
  }
}
