import { spawnSync } from 'node:child_process';
import {
  chownSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Every launched service lives in one temp dir `pgdeck-svc-*` that records its owner's PID and the
 * PIDs it started. A later run sweeps dirs whose owner is gone: it kills their PIDs and removes them,
 * so a crashed test leaves no orphans behind.
 */
const PREFIX = 'pgdeck-svc-';

/** In a service dir of network namespaces: `{namespaces, links}` to delete with it. */
export const NETWORK_FILE = 'network.json';

export interface ServiceDir {
  readonly path: string;
  recordPid(pid: number): void;
  forgetPid(pid: number): void;
  remove(): void;
}

export function createServiceDir(kind: string, owner?: { uid: number; gid: number }): ServiceDir {
  sweepOrphans();
  const path = mkdtempSync(join(tmpdir(), `${PREFIX}${kind}-`));
  writeFileSync(join(path, 'owner.pid'), String(process.pid));
  writeFileSync(join(path, 'pids'), '');
  if (owner !== undefined) chownSync(path, owner.uid, owner.gid);
  const pids = new Set<number>();
  let removed = false;
  // A process that exits after its dir was removed has nothing left to record.
  const save = (): void => {
    if (!removed) writeFileSync(join(path, 'pids'), [...pids].join('\n'));
  };
  return {
    path,
    recordPid: (pid) => {
      pids.add(pid);
      save();
    },
    forgetPid: (pid) => {
      pids.delete(pid);
      save();
    },
    remove: () => {
      removed = true;
      rmSync(path, { recursive: true, force: true });
    },
  };
}

export function subdir(dir: ServiceDir, name: string, owner?: { uid: number; gid: number }): string {
  const path = join(dir.path, name);
  mkdirSync(path, { recursive: true, mode: 0o700 });
  if (owner !== undefined) chownSync(path, owner.uid, owner.gid);
  return path;
}

/** Whether `pid` runs; a zombie (killed, not yet reaped by its parent) counts as gone. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** A recorded PID is only killed while its working directory is still inside the service dir. */
function runsInside(pid: number, path: string): boolean {
  try {
    const cwd = readlinkSync(`/proc/${pid}/cwd`);
    return cwd === path || cwd.startsWith(`${path}/`);
  } catch {
    return false;
  }
}

/** Every process whose working directory is inside `path`. */
function processesInside(path: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => runsInside(pid, path));
}

/**
 * A dir another process has just made (mkdtemp) has no owner.pid for a moment; it is left alone
 * until it is this old, so parallel test workers never sweep each other's new dirs.
 */
const NEWBORN_MS = 60_000;

/** The PID in `owner.pid`, NaN while it is not written yet. */
function ownerOf(path: string): number {
  try {
    return Number(readFileSync(join(path, 'owner.pid'), 'utf8'));
  } catch {
    return Number.NaN;
  }
}

/** Kills what crashed runs left behind in `root` (the temp dir); returns how many dirs were swept. */
export function sweepOrphans(root = tmpdir()): number {
  let swept = 0;
  for (const name of readdirSync(root)) {
    if (!name.startsWith(PREFIX)) continue;
    const path = join(root, name);
    try {
      const stat = statSync(path);
      if (!stat.isDirectory()) continue;
      const owner = ownerOf(path);
      if (Number.isInteger(owner) && owner > 0 && isAlive(owner)) continue;
      if (!(owner > 0) && Date.now() - stat.mtimeMs < NEWBORN_MS) continue;
      const recorded = readFileSync(join(path, 'pids'), 'utf8')
        .split('\n')
        .map(Number)
        .filter((pid) => Number.isInteger(pid) && pid > 0);
      // A recorded daemon may have started servers of its own (a postgres): whatever runs inside goes too.
      for (const pid of new Set([...recorded, ...processesInside(path)]))
        if (runsInside(pid, path)) process.kill(pid, 'SIGKILL');
      releaseNetwork(path);
      rmSync(path, { recursive: true, force: true });
      swept++;
    } catch {
      rmSync(path, { recursive: true, force: true });
    }
  }
  return swept;
}

/** Deletes the network namespaces and links a service dir's NETWORK_FILE names (none: nothing to do). */
export function releaseNetwork(path: string): void {
  let network: { namespaces?: unknown; links?: unknown };
  try {
    network = JSON.parse(readFileSync(join(path, NETWORK_FILE), 'utf8')) as typeof network;
  } catch {
    return;
  }
  const names = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  // links first (the bridge and the host-side veths): deleting a veth takes its peer at once, while a
  // namespace's links go in the kernel's cleanup after `netns del` returns, a moment later
  for (const link of names(network.links)) spawnSync('ip', ['link', 'del', link], { stdio: 'ignore' });
  for (const ns of names(network.namespaces)) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
}
