import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labHandle } from '../../src/lab/console-handle.js';
import { labLauncher } from '../../src/lab/launcher.js';
import { isAlive } from '../../src/lab/procs/service-dir.js';
import type { ChaosReport } from '../../src/lab/stack/chaos.js';
import type { LabState } from '../../src/lab/stack/state.js';
import { until } from '../helpers/failover.js';
import { waitFor } from '../helpers/wait-for.js';
import { selectRow, showConsole } from '../ui/console-harness.js';

const main = join(process.cwd(), 'dist', 'main.js');
const dir = join(mkdtempSync(join(tmpdir(), 'pgdeck-labtest-')), 'lab');
const small = ['--nodes', '2', '--citus-workers', '1', '--synchronous'];

async function lab(
  args: string[],
  cwd = process.cwd(),
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [main, 'lab', ...args, '--dir', dir], {
    env: { ...process.env, CI: 'true' },
    cwd,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, stdout, stderr };
}

const jsonLines = (text: string): Record<string, unknown>[] =>
  text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

async function status(): Promise<LabState> {
  const r = await lab(['status', '-o', 'json']);
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout) as LabState;
}

async function chaos(action: string, ...extra: string[]): Promise<ChaosReport> {
  const r = await lab(['chaos', action, '-o', 'json', ...extra]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as ChaosReport;
}

const portOpen = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

/** Every port the lab published. */
function ports(state: LabState): number[] {
  return state.components.flatMap((c) =>
    Object.values(c.endpoints)
      .filter((v) => /^[a-z]+:\/\//.test(v))
      .map((v) => Number(new URL(v).port)),
  );
}

/** Service dirs whose owner is `pid` (the supervisor): what `down` must have removed. */
function ownedDirs(pid: number): string[] {
  return readdirSync(tmpdir())
    .filter((n) => n.startsWith('pgdeck-svc-'))
    .filter((n) => {
      try {
        return Number(readFileSync(join(tmpdir(), n, 'owner.pid'), 'utf8')) === pid;
      } catch {
        return false;
      }
    });
}

async function query(url: string, sql: string): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

let first: LabState;

beforeAll(async () => {
  // from inside the (empty) lab dir, which `up` removes and makes again: the supervisor must not inherit
  // a working directory that is gone
  mkdirSync(dir);
  const up = await lab(['up', ...small, '-o', 'json'], dir);
  expect(up.stderr).toBe('');
  expect(up.code).toBe(0);
  const events = jsonLines(up.stdout);
  for (const name of ['etcd', 'failover', 'haproxy', 'redis', 'citus'])
    expect(events.some((e) => e.component === name && e.phase === 'ready')).toBe(true);
  expect(events.at(-1)?.event).toBe('ready');
  first = await status();
}, 240_000);

afterAll(async () => {
  await lab(['down']);
}, 120_000);

describe('pgdeck lab', () => {
  it('is idempotent, and its env connects: the write port takes writes, the read port reads', async () => {
    const again = await lab(['up', ...small, '-o', 'json']);
    expect(again.code).toBe(0);
    expect(jsonLines(again.stdout)[0]).toMatchObject({ event: 'running', pid: first.pid });
    const env = await lab(['env']);
    const vars = Object.fromEntries(
      [...env.stdout.matchAll(/^export (\w+)='([^']*)'$/gm)].map((m) => [m[1]!, m[2]!] as const),
    );
    expect(Object.keys(vars)).toEqual(
      expect.arrayContaining(['PGDECK_WRITE_URL', 'PGDECK_READ_URL', 'PGDECK_REDIS_URL']),
    );
    await query(vars.PGDECK_WRITE_URL!, 'CREATE TABLE IF NOT EXISTS t (x int)');
    await query(vars.PGDECK_WRITE_URL!, 'INSERT INTO t VALUES (1)');
    expect(await query(vars.PGDECK_READ_URL!, 'SELECT pg_is_in_recovery() AS r')).toEqual([{ r: true }]);
    await until(
      'the row on the replica',
      async () => (await query(vars.PGDECK_READ_URL!, 'SELECT x FROM t')).length === 1,
      10_000,
      100,
    );
    const nodes = await query(vars.PGDECK_CITUS_URL!, 'SELECT nodeport, isactive FROM pg_dist_node ORDER BY nodeid');
    expect(nodes).toHaveLength(2);
    const logs = await lab(['logs', 'failover', '--lines', '3']);
    expect(logs.stdout).toMatch(/==> failover\/pg0/);
  }, 120_000);

  it('kills the primary: the flight recorder holds the failover, writes come back, none is lost (synchronous)', async () => {
    const r = await chaos('kill-node');
    expect(r.failover).toMatchObject({ from: r.target });
    expect(r.recoveryMs).not.toBeNull();
    expect(r.outageMs).toBeGreaterThan(0);
    expect(r.writesLost).toBe(0);
    expect(r.healedMs).not.toBeNull();
  }, 120_000);

  it('kills only the server, then freezes and thaws a node, each measured', async () => {
    const crash = await chaos('kill-postgres');
    expect(crash.recoveryMs).not.toBeNull();
    expect(crash.writesLost).toBe(0);
    const freeze = await chaos('freeze');
    expect(freeze.failover).toMatchObject({ from: freeze.target });
    expect(freeze.recoveryMs).not.toBeNull();
    const thaw = await chaos('thaw');
    expect(thaw.target).toBe(freeze.target);
    expect(thaw.healedMs).not.toBeNull();
    expect(thaw.writesLost).toBe(0);
    // three drills while the control plane and its three agents come up beside the cluster
  }, 150_000);

  it('restarts etcd and Redis: no failover, no lost write', async () => {
    for (const action of ['restart-etcd', 'restart-redis']) {
      const r = await chaos(action);
      expect(r.failover).toBeNull();
      expect(r.writesLost).toBe(0);
      expect(r.healedMs).not.toBeNull();
    }
  });

  it('restarts the API server once the Kubernetes parts have joined', async () => {
    await until(
      'kube ready',
      async () => (await status()).components.find((c) => c.name === 'kube')?.phase === 'ready',
      120_000,
      500,
    );
    const r = await chaos('restart-apiserver');
    expect(r.failover).toBeNull();
    expect(r.writesLost).toBe(0);
    expect(r.detail).toMatch(/kube-apiserver killed and started again/);
    expect((await status()).components.find((c) => c.name === 'kube')?.phase).toBe('ready');
  }, 180_000);

  it('shows in the console: the Lab view lists the components, b on Redis runs its drill and reports it', async () => {
    const handle = labHandle(dir, 200);
    try {
      await until('the lab state', async () => handle.reader.getSnapshot().state !== undefined, 10_000, 50);
      const c = await showConsole([handle], { view: 'lab', size: { columns: 120, rows: 30 } });
      for (const name of ['etcd', 'failover', 'haproxy', 'redis', 'citus', 'kube'])
        expect(c.frame()).toMatch(new RegExp(`\\b${name}\\s+(ready|starting|skipped)`));
      expect(await selectRow(c, /redis/)).toMatch(/redis\s+ready/);
      await c.press('b');
      expect(c.frame()).toMatch(/restart-redis/);
      await c.press('y');
      await until('the drill reported', async () => /chaos-restart-redis: done/.test(c.frame()), 60_000, 100);
      const events = handle.reader.events(0).events;
      expect(events.map((e) => e.kind)).toEqual(['chaos']);
      expect(events[0]!.fields).toMatchObject({ action: 'restart-redis', writesLost: 0 });
      expect(JSON.stringify(handle.reader.getSnapshot().state)).not.toContain(first.token);
      c.unmount();
    } finally {
      await handle.close();
    }
  }, 120_000);

  it('refuses bad input in one line, exit 2', async () => {
    const bad = await lab(['chaos', 'nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/unknown chaos action nope; one of kill-node/),
    ]);
    const node = await lab(['chaos', 'kill-node', '--node', 'pg9']);
    expect(node.code).toBe(2);
    expect(node.stderr).toMatch(/no node pg9; the lab has pg0, pg1/);
    const size = await lab(['up', '--nodes', '0']);
    expect(size.code).toBe(2);
    expect(size.stderr.trim()).toBe('pgdeck: lab: --nodes must be an integer from 1 to 9, not 0');
  });

  it('after a crash of its supervisor, L in a console outside lab mode sweeps what it left, sets the lab up again and attaches; down leaves nothing', async () => {
    const before = await status();
    process.kill(before.pid, 'SIGKILL');
    await waitFor(() => !isAlive(before.pid), 'the supervisor gone');
    const none = await lab(['status']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no lab is running/);
    // what main hands a console of agents in-process or attached: a launcher, not a source
    const launcher = labLauncher({ dir, command: [process.execPath, main], args: [...small, '--no-kube'] });
    try {
      const c = await showConsole([], { launchers: [launcher], size: { columns: 120, rows: 30 } });
      expect(c.frame()).toMatch(/sources 0\/0 live/);
      await c.press('L');
      await until('the preview', async () => c.frame().includes('Proceed?'), 20_000, 50);
      expect(c.frame()).toMatch(/pgdeck lab up in \S+, (directly|nix develop)/);
      await c.press('y');
      await until(
        'the progress',
        async () => /lab: (etcd|failover|haproxy|redis|citus) (starting|ready)/.test(c.frame()),
        60_000,
        50,
      );
      await until('the setup done', async () => /lab: done: lab up \(/.test(c.frame()), 180_000, 200);
      const up = await status();
      const daemons = Object.keys(up.components.find((x) => x.name === 'failover')!.endpoints).filter(
        (k) => !k.endsWith('-pg'),
      ).length;
      expect(daemons).toBe(2);
      await until(
        'the lab and its daemons live',
        async () => new RegExp(`sources ${daemons + 1}/${daemons + 1} live`).test(c.frame()),
        30_000,
        100,
      );
      await c.press(':lab\r');
      await until('the Lab view lists the new lab', async () => /haproxy\s+ready/.test(c.frame()), 10_000, 100);
      expect(c.frame()).toMatch(/kube\s+skipped/);
      await c.press('L');
      await until('the refusal', async () => c.frame().includes('attached to the lab already'), 10_000, 50);
      c.unmount();
    } finally {
      await launcher.close();
    }
    expect(ownedDirs(before.pid)).toEqual([]);
    const orphaned = ports(before);
    expect(await Promise.all(orphaned.map(portOpen))).toEqual(orphaned.map(() => false));
    const after = await status();
    expect(after.pid).not.toBe(before.pid);
    const open = ports(after);
    expect(open.length).toBeGreaterThan(5);
    const down = await lab(['down']);
    expect(down.code).toBe(0);
    expect(isAlive(after.pid)).toBe(false);
    expect(ownedDirs(after.pid)).toEqual([]);
    expect(await Promise.all(open.map(portOpen))).toEqual(open.map(() => false));
    expect(existsSync(dir)).toBe(false);
  }, 240_000);
});
