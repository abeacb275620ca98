import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { PgdeckError } from '../agents/kernel/errors.js';
import type { AgentHandle } from '../agents/kernel/snapshot.js';
import { labHandle } from './console-handle.js';
import { daemonCommand } from './launcher.js';
import { netnsUnavailable } from './procs/netns.js';
import { isAlive, sweepOrphans } from './procs/service-dir.js';
import { parseChaosAction, type ChaosReport } from './stack/chaos.js';
import { callControl } from './stack/control.js';
import type { LabOptions } from './stack/options.js';
import { progressLine, renderChaos, renderEnv, renderLogs, renderStatus } from './stack/render.js';
import { runSupervisor } from './stack/supervisor.js';
import {
  daemonUrls,
  defaultLabDir,
  KUBE_COMPONENTS,
  labUsable,
  readLabState,
  runningLab,
  SOCKET_FILE,
  STATE_FILE,
  SUPERVISOR_LOG,
  type LabState,
} from './stack/state.js';
import { renderLoad, runLoad } from './workload/load.js';
import { scaleLaneOf } from './workload/scale-events.js';

export interface LabArgs {
  readonly what: string;
  readonly name: string | undefined;
  readonly options: LabOptions;
  readonly output: 'table' | 'json';
  readonly node: string | undefined;
  readonly lines: number;
  readonly seconds: number;
  /** `lab load --scale N`: pods up and down on the autoscaler's target; undefined: one when it runs. */
  readonly scale: number | undefined;
  /** `--kind`: a kind cluster with manifests/overlays/lab instead of the local processes (up and down). */
  readonly kind: boolean;
  /** `--plan` (with `--kind`): print what would run, run nothing. */
  readonly plan: boolean;
  readonly write: (text: string) => void;
}

export const LAB_COMMANDS = ['up', 'down', 'status', 'env', 'logs', 'chaos', 'load', 'supervise'] as const;

/** `pgdeck lab WHAT`: the exit code. */
export async function runLab(args: LabArgs): Promise<number> {
  const dir = args.options.dir;
  if (args.kind) return runKind(args);
  switch (args.what) {
    case 'up':
      await up(args);
      return 0;
    case 'down':
      return down(dir, args.write);
    case 'supervise':
      return runSupervisor(args.options);
    case 'status': {
      const state = await current(dir);
      args.write(args.output === 'json' ? JSON.stringify(state, null, 2) : renderStatus(state));
      return labUsable(state) && !state.components.some((c) => c.phase === 'failed') ? 0 : 1;
    }
    case 'env':
      args.write(renderEnv(await current(dir)));
      return 0;
    case 'logs':
      args.write(renderLogs(await current(dir), args.name, args.lines));
      return 0;
    case 'chaos': {
      const action = parseChaosAction(args.name);
      await current(dir);
      const res = await callControl(dir, 'POST', '/chaos', { action, node: args.node ?? '' });
      if (res.status !== 200)
        throw new PgdeckError(res.status === 400 ? 'invalid-argument' : 'unavailable', String(res.body.error));
      const report = res.body as unknown as ChaosReport;
      args.write(args.output === 'json' ? JSON.stringify(report) : renderChaos(report));
      return 0;
    }
    case 'load': {
      const state = await current(dir);
      const write = state.components.find((c) => c.name === 'haproxy')?.endpoints.write;
      if (write === undefined) throw new PgdeckError('unavailable', 'the lab has no write port yet');
      const lane = scaleLaneOf(state, args.scale);
      const scale =
        typeof lane === 'string'
          ? ({ kind: 'none', why: lane } as const)
          : ({ kind: 'events', lane, podCount: args.scale ?? 1 } as const);
      args.write(renderLoad(await runLoad(Number(new URL(write).port), args.seconds, scale), args.output));
      return 0;
    }
    default:
      throw new PgdeckError(
        'invalid-argument',
        `lab: unknown command ${args.what}; one of ${LAB_COMMANDS.filter((c) => c !== 'supervise').join(', ')}`,
      );
  }
}

/** `lab up|down --kind`; the other commands do not know a kind lab yet (exit 2). */
async function runKind(args: LabArgs): Promise<number> {
  const { kindDown, kindUp } = await import('./kind/kind-up.js');
  if (args.what === 'up') await kindUp(args.options.dir, args.write, args.plan);
  else if (args.what === 'down') await kindDown(args.write);
  else throw new PgdeckError('invalid-argument', `lab ${args.what}: --kind is for up and down only`);
  return 0;
}

/** The running lab's state, or a one-line error saying how to start one. */
async function current(dir: string): Promise<LabState> {
  const state = runningLab(dir);
  if (state === null) throw new PgdeckError('unavailable', `no lab is running in ${dir}; \`pgdeck lab up\` starts one`);
  const live = await callControl(dir, 'GET', '/state', {}, 5000).catch(() => null);
  return live?.status === 200 ? (live.body as unknown as LabState) : state;
}

/** Starts the supervisor (or finds the running lab) and follows its progress until the lab is usable. */
async function up(args: LabArgs): Promise<LabState> {
  const { dir } = args.options;
  const running = runningLab(dir);
  if (running !== null) {
    args.write(
      args.output === 'json'
        ? JSON.stringify({ event: 'running', pid: running.pid })
        : `lab already running in ${dir} (supervisor ${running.pid})\n${renderStatus(running)}`,
    );
    return running;
  }
  const noNetns = args.options.netns ? netnsUnavailable() : null;
  if (noNetns !== null) throw new PgdeckError('invalid-argument', `lab: --netns ${noNetns}`);
  clean(dir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const log = openSync(join(dir, SUPERVISOR_LOG), 'a');
  const o = args.options;
  const child = spawn(
    o.command[0]!,
    [
      ...o.command.slice(1),
      'lab',
      'supervise',
      '--dir',
      resolve(dir),
      '--nodes',
      String(o.nodes),
      '--citus-workers',
      String(o.citusWorkers),
      '--etcd',
      String(o.etcdMembers),
      ...(o.synchronous ? ['--synchronous'] : []),
      ...(o.kube === 'off' ? ['--no-kube'] : []),
      ...(o.netns ? ['--netns'] : []),
    ],
    // in its own dir: the caller's may be gone (`lab up` from inside an empty lab dir removes it first)
    { detached: true, stdio: ['ignore', log, log], cwd: dir },
  );
  closeSync(log);
  child.unref();
  const started = Date.now();
  const seen = new Map<string, string>();
  for (;;) {
    await delay(100);
    const state = readLabState(dir);
    for (const c of state?.components ?? []) {
      const key = `${c.phase} ${c.detail}`;
      if (
        seen.get(c.name) === key ||
        c.phase === 'pending' ||
        (c.phase === 'building' && seen.get(c.name)?.startsWith('building') === true)
      )
        continue;
      seen.set(c.name, key);
      args.write(
        args.output === 'json'
          ? JSON.stringify({
              event: 'component',
              component: c.name,
              phase: c.phase,
              detail: c.detail,
              endpoints: c.endpoints,
              elapsedMs: Date.now() - started,
            })
          : progressLine(c, Date.now() - started),
      );
    }
    // The supervisor stops the lab when a core component fails; the Kubernetes parts failing leaves it running.
    const failed = state?.components.find((c) => c.phase === 'failed' && !KUBE_COMPONENTS.includes(c.name));
    if (failed !== undefined || (child.pid !== undefined && !isAlive(child.pid))) {
      if (child.pid !== undefined) while (isAlive(child.pid)) await delay(100);
      clean(dir, true);
      const why = failed === undefined ? 'the supervisor exited' : `${failed.name}: ${failed.detail}`;
      throw new PgdeckError('unavailable', `lab up failed: ${why} (log: ${join(dir, SUPERVISOR_LOG)})`);
    }
    if (state !== null && state.pid === child.pid && labUsable(state)) {
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      args.write(
        args.output === 'json'
          ? JSON.stringify({ event: 'ready', elapsedMs: Date.now() - started })
          : `lab up in ${secs} s; \`eval "$(pgdeck lab env)"\` for its connection strings\n`,
      );
      return state;
    }
  }
}

/**
 * The main command on a machine with nothing configured: the running lab, or a new one brought up
 * with its progress on stderr; the console then attaches to its daemons.
 */
export async function labForConsole(): Promise<{
  readonly urls: readonly string[];
  readonly token: string;
  readonly handle: AgentHandle;
}> {
  const args = labArgs({ what: 'up', nodes: 3, etcd: 1, citusWorkers: 2, lines: 1, seconds: 1 }, (text) => {
    process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
  });
  const state = await up(args);
  return { urls: daemonUrls(state), token: state.token, handle: labHandle(args.options.dir) };
}

/** Stops the supervisor (which stops everything it started) and removes the lab's files. */
async function down(dir: string, write: (text: string) => void): Promise<number> {
  const state = readLabState(dir);
  if (state === null) {
    clean(dir);
    write(`no lab in ${dir}\n`);
    return 0;
  }
  if (isAlive(state.pid)) {
    await callControl(dir, 'POST', '/stop', {}, 5000).catch(() => process.kill(state.pid, 'SIGTERM'));
    const deadline = Date.now() + 60_000;
    while (isAlive(state.pid) && Date.now() < deadline) await delay(100);
    if (isAlive(state.pid)) process.kill(state.pid, 'SIGKILL');
  }
  clean(dir);
  write(`lab stopped (${dir})\n`);
  return 0;
}

/** What a stopped or crashed lab left: its servers (swept by their dead owner's PID) and its files. */
function clean(dir: string, keepLog = false): void {
  sweepOrphans();
  const files = [STATE_FILE, `${STATE_FILE}.tmp`, SOCKET_FILE, ...(keepLog ? [] : [SUPERVISOR_LOG])];
  for (const f of files) rmSync(join(dir, f), { force: true });
  try {
    if (readdirSync(dir).length === 0) rmdirSync(dir);
  } catch {
    return;
  }
}

const integer = (name: string, value: unknown, min: number, max: number): number => {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw new PgdeckError(
      'invalid-argument',
      `lab: --${name} must be an integer from ${min} to ${max}, not ${String(value)}`,
    );
  return value;
};

function etcdMembers(value: unknown): 1 | 3 {
  if (value === 1 || value === 3) return value;
  throw new PgdeckError('invalid-argument', `lab: --etcd must be 1 or 3 (members), not ${String(value)}`);
}

/** The parsed command line of `pgdeck lab`, checked: a bad value names its flag (exit 2). */
export function labArgs(args: Record<string, unknown>, write: (text: string) => void): LabArgs {
  const what = String(args.what);
  if (!(LAB_COMMANDS as readonly string[]).includes(what))
    throw new PgdeckError(
      'invalid-argument',
      `lab: unknown command ${what}; one of ${LAB_COMMANDS.filter((c) => c !== 'supervise').join(', ')}`,
    );
  return {
    what,
    name: typeof args.name === 'string' ? args.name : undefined,
    options: {
      dir: typeof args.dir === 'string' && args.dir !== '' ? resolve(args.dir) : defaultLabDir(),
      nodes: integer('nodes', args.nodes, 1, 9),
      etcdMembers: etcdMembers(args.etcd),
      synchronous: args.synchronous === true,
      citusWorkers: integer('citus-workers', args.citusWorkers, 0, 8),
      kube: args.kube === false ? 'off' : 'auto',
      netns: args.netns === true,
      command: daemonCommand(),
    },
    output: args.output === 'json' ? 'json' : 'table',
    node: typeof args.node === 'string' ? args.node : undefined,
    lines: integer('lines', args.lines, 1, 10_000),
    seconds: integer('seconds', args.seconds, 1, 3600),
    scale: args.scale === undefined ? undefined : integer('scale', args.scale, 0, 8),
    kind: args.kind === true,
    plan: args.plan === true,
    write,
  };
}
