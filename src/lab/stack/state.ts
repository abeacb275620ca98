import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { isAlive } from '../procs/service-dir.js';

/** Where a component is: `building` waits on a build running in the background. */
export type ComponentPhase = 'pending' | 'starting' | 'building' | 'ready' | 'failed' | 'skipped' | 'stopped';

export interface ComponentState {
  readonly name: string;
  readonly phase: ComponentPhase;
  /** One line for a person: the mode, the build's last line, the error. */
  readonly detail: string;
  /** Named addresses: `url`, `write`, `read`, `kubeconfig`, ... */
  readonly endpoints: Readonly<Record<string, string>>;
  /** Log files by process name. */
  readonly logs: Readonly<Record<string, string>>;
  readonly since: string;
}

/** The lab's state file: what runs, where, and who owns it (the supervisor's PID). */
export interface LabState {
  readonly version: 1;
  readonly dir: string;
  readonly pid: number;
  readonly startedAt: string;
  /** The failover daemons' action token (the file is 0600, like a kubeconfig). */
  readonly token: string;
  readonly components: readonly ComponentState[];
  /** Whether the failover nodes run in network namespaces (`lab up --netns`): the partition drills need it. */
  readonly netns?: boolean;
}

export const STATE_FILE = 'lab.json';
export const SOCKET_FILE = 'control.sock';
export const SUPERVISOR_LOG = 'supervisor.log';

/** `$PGDECK_LAB_DIR`, else `$XDG_STATE_HOME/pgdeck/lab` (default `~/.local/state/pgdeck/lab`). */
export function defaultLabDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PGDECK_LAB_DIR !== undefined && env.PGDECK_LAB_DIR !== '') return env.PGDECK_LAB_DIR;
  const state =
    env.XDG_STATE_HOME !== undefined && env.XDG_STATE_HOME !== ''
      ? env.XDG_STATE_HOME
      : join(homedir(), '.local', 'state');
  return join(state, 'pgdeck', 'lab');
}

export function readLabState(dir: string): LabState | null {
  const file = join(dir, STATE_FILE);
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LabState;
  } catch {
    return null;
  }
}

/** Written whole and renamed into place, so a reader never sees half a file. */
export function writeLabState(state: LabState): void {
  mkdirSync(state.dir, { recursive: true, mode: 0o700 });
  const file = join(state.dir, STATE_FILE);
  writeFileSync(`${file}.tmp`, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

/** The lab of `dir` when its supervisor still runs; a state file whose owner died is stale. */
export function runningLab(dir: string): LabState | null {
  const state = readLabState(dir);
  return state !== null && isAlive(state.pid) ? state : null;
}

/** The sample PostgresCluster the lab applies once the operator runs. */
export const SAMPLE_COMPONENT = 'sample';

/** The components that join with the control plane: itself, the agents running against it and the sample. */
export const KUBE_COMPONENTS: readonly string[] = [
  'kube',
  'patroni-operator',
  'autoscaler',
  'citus-sync',
  SAMPLE_COMPONENT,
];

/** The lab can be used: every component but the Kubernetes parts (which join later) is up or left out. */
export function labUsable(state: LabState): boolean {
  return state.components.every(
    (c) => KUBE_COMPONENTS.includes(c.name) || c.phase === 'ready' || c.phase === 'skipped',
  );
}

/**
 * The daemons' API URLs, what the console attaches to: the failover daemons, and the agents of the
 * Kubernetes parts (their ports are picked at the start, so the console attaches before they run).
 */
export function daemonUrls(state: LabState): string[] {
  const failover = state.components.find((c) => c.name === 'failover');
  const agents = state.components.filter(
    (c) => KUBE_COMPONENTS.includes(c.name) && c.name !== 'kube' && c.name !== SAMPLE_COMPONENT,
  );
  return [
    ...Object.entries(failover?.endpoints ?? {})
      .filter(([name]) => !name.endsWith('-pg'))
      .map(([, url]) => url),
    ...agents.filter((c) => c.phase !== 'skipped' && c.endpoints.url !== undefined).map((c) => c.endpoints.url!),
  ];
}
