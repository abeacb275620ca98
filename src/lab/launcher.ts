import type { Launcher, LaunchOutcome } from '../agents/kernel/launcher.js';
import type { ActionPreview, AgentHandle } from '../agents/kernel/snapshot.js';
import { attachAgent } from '../agents/wire/attach.js';
import { runLabSetup, setupCommand } from './lab-setup.js';
import { daemonUrls, defaultLabDir, runningLab, type LabState } from './stack/state.js';

export interface LabLauncherOptions {
  readonly dir: string;
  /** How to run pgdeck (`node dist/main.js`). */
  readonly command: readonly string[];
  /** Flags of `lab up` (sizes); none: the defaults. */
  readonly args?: readonly string[];
  /** The journal size of each attached daemon (the console's event capacity). */
  readonly journalCapacity?: number;
}

/** The console's `L` outside lab mode, a launcher of the lab's handles (main hands it in). */
export interface LabLauncher extends Launcher<AgentHandle> {
  /** Closes what it attached. */
  close(): Promise<void>;
}

const ACTION = 'lab up';

/**
 * `L` in a console outside lab mode: when no lab runs in `dir`, runs `pgdeck lab up` (inside
 * `nix develop` when nix has flakes, else directly) with its progress; then, or at once when one
 * runs already, attaches the console to the lab and its daemons. Nothing is a source before that.
 */
export function labLauncher(options: LabLauncherOptions): LabLauncher {
  const { dir } = options;
  let busy = false;
  let attached = false;
  const opened: AgentHandle[] = [];
  // The lab's own source (chaos over the lab's control socket, with its SQL probes) loads only when it joins.
  const attach = async (state: LabState): Promise<AgentHandle[]> => {
    const { labHandle } = await import('./console-handle.js');
    const handles = [
      labHandle(dir),
      ...daemonUrls(state).map((url) =>
        attachAgent(url, {
          token: state.token,
          ...(options.journalCapacity === undefined ? {} : { journalCapacity: options.journalCapacity }),
        }),
      ),
    ];
    opened.push(...handles);
    attached = true;
    return handles;
  };
  const preview = (): Promise<ActionPreview> => {
    const running = runningLab(dir);
    const setup = setupCommand(options.command, dir, options.args);
    const refused = attached
      ? 'this console is attached to the lab already'
      : busy
        ? 'the lab is being set up'
        : undefined;
    const summary =
      running !== null
        ? `a lab runs in ${dir} (supervisor ${running.pid}): attach this console to it`
        : `pgdeck lab up in ${dir}, ${setup.via} (${setup.why}); then attach this console to it`;
    return Promise.resolve({
      action: ACTION,
      allowed: refused === undefined,
      summary,
      effects:
        running !== null
          ? [`adds the lab and its ${daemonUrls(running).length} daemons to this console's sources`]
          : [
              'starts etcd, the failover cluster with its daemons, haproxy, Redis and Citus; the Kubernetes parts join when their binaries exist',
              'progress shows here; once the lab is usable its sources join this console (:lab)',
            ],
      ...(refused === undefined ? {} : { reason: refused }),
    });
  };
  const launch = async (progress: (line: string) => void): Promise<LaunchOutcome<AgentHandle>> => {
    if (busy || attached) return { kind: 'failed', message: busy ? 'the lab is being set up' : 'attached already' };
    busy = true;
    try {
      const found = runningLab(dir);
      if (found !== null)
        return { kind: 'attached', message: `attached to the lab in ${dir}`, sources: await attach(found) };
      const setup = setupCommand(options.command, dir, options.args);
      progress(`running ${setup.via === 'nix develop' ? 'nix develop -c ' : ''}pgdeck lab up`);
      const outcome = await runLabSetup(setup, (event) => {
        const line = progressMessage(event);
        if (line !== undefined) progress(line);
      });
      const state = runningLab(dir);
      if (!outcome.ok || state === null)
        return { kind: 'failed', message: outcome.ok ? `no lab runs in ${dir} after lab up` : outcome.message };
      return { kind: 'attached', message: `${outcome.message}; attached (:lab)`, sources: await attach(state) };
    } finally {
      busy = false;
    }
  };
  return {
    id: 'lab',
    keys: ['L'],
    label: 'L',
    description: 'set up the local lab (pgdeck lab up) and attach to it',
    hint: 'lab',
    views: ['lab'],
    preview,
    launch,
    close: async () => {
      await Promise.all(opened.splice(0).map((h) => h.close()));
    },
  };
}

/**
 * The console's `L` outside lab mode (agents in-process or attached): the lab of the default dir,
 * set up when none runs, then attached. Not a source until then. Main loads this module, not the
 * lab's CLI, so that the console's start does not load the lab's stack and its client libraries.
 */
export function consoleLabLauncher(journalCapacity: number): LabLauncher {
  return labLauncher({ dir: defaultLabDir(), command: daemonCommand(), journalCapacity });
}

/** How to run this pgdeck again: the running node, its flags and script. */
export const daemonCommand = (): string[] => [process.execPath, ...process.execArgv, process.argv[1]!];

/** One line of a progress event of `lab up -o json`. */
export function progressMessage(event: Record<string, unknown>): string | undefined {
  const secs = typeof event.elapsedMs === 'number' ? ` (${(event.elapsedMs / 1000).toFixed(1)} s)` : '';
  switch (event.event) {
    case 'component':
      return `${String(event.component)} ${String(event.phase)}${event.detail ? `: ${String(event.detail)}` : ''}${secs}`;
    case 'ready':
      return `the lab is usable${secs}`;
    case 'running':
      return 'a lab was already running';
    default:
      return undefined;
  }
}
