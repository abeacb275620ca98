import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pgRunAs } from '../../src/agents/failover/pg-tools.js';
import { netnsUnavailable } from '../../src/lab/procs/netns.js';
import { isAlive, sweepOrphans } from '../../src/lab/procs/service-dir.js';
import type { ChaosReport } from '../../src/lab/stack/chaos.js';
import type { LabState } from '../../src/lab/stack/state.js';
import { until } from '../helpers/failover.js';

const main = join(process.cwd(), 'dist', 'main.js');
const base = mkdtempSync(join(tmpdir(), 'pgdeck-labnetns-'));
const dir = join(base, 'lab');
const unavailable = netnsUnavailable();

async function lab(
  args: string[],
  as?: { uid: number; gid: number },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [main, 'lab', ...args], {
    env: { ...process.env, CI: 'true', ...(as === undefined ? {} : { HOME: base }) },
    ...(as ?? {}),
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, stdout, stderr };
}

async function chaos(action: string): Promise<ChaosReport> {
  const r = await lab(['chaos', action, '-o', 'json', '--dir', dir]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as ChaosReport;
}

/** What this lab's bridge tag names in `ip netns list` and `ip link` (its namespaces, veths and bridge). */
function networkOf(tag: string): string[] {
  const namespaces = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' });
  const ours = [`pgdeck-${tag}-`, `brpg${tag}:`, `vh${tag}`];
  return [...namespaces.split('\n'), ...links.split('\n')].filter((l) => ours.some((o) => l.includes(o)));
}

const ownedDirs = (pid: number): string[] =>
  readdirSync(tmpdir())
    .filter((n) => n.startsWith('pgdeck-svc-'))
    .filter((n) => {
      try {
        return Number(readFileSync(join(tmpdir(), n, 'owner.pid'), 'utf8')) === pid;
      } catch {
        return false;
      }
    });

afterAll(async () => {
  if (existsSync(join(dir, 'lab.json'))) await lab(['down', '--dir', dir]);
  rmSync(base, { recursive: true, force: true });
}, 120_000);

describe('pgdeck lab up --netns: each node in its own network namespace, so a partition is a real cut', () => {
  it.runIf(process.getuid?.() === 0)(
    'without root, --netns is refused in one line naming the flag (exit 2) and nothing is started',
    async () => {
      const r = await lab(['up', '--netns', '--no-kube', '--dir', join(base, 'refused')], (await pgRunAs())!);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toEqual(['pgdeck: lab: --netns needs root to create network namespaces']);
      expect(existsSync(join(base, 'refused'))).toBe(false);
    },
    60_000,
  );

  it.skipIf(unavailable !== null)(
    `partition of the primary's node fails over; heal brings it back as a replica; down leaves no namespace, veth or bridge${unavailable === null ? '' : ` (skipped: ${unavailable})`}`,
    async () => {
      const up = await lab(
        ['up', '--netns', '--nodes', '3', '--citus-workers', '0', '--no-kube', '--synchronous'].concat([
          '-o',
          'json',
          '--dir',
          dir,
        ]),
      );
      expect(up.stderr).toBe('');
      expect(up.code).toBe(0);
      const state = JSON.parse(readFileSync(join(dir, 'lab.json'), 'utf8')) as LabState;
      const failover = state.components.find((c) => c.name === 'failover')!;
      const tag = /on bridge brpg([0-9a-f]{4})/.exec(failover.detail)?.[1];
      expect(tag).toBeDefined();
      // Three namespaces, three host-side veths and the bridge; every node at its own bridge address.
      expect(networkOf(tag!)).toHaveLength(7);
      const pgUrls = Object.entries(failover.endpoints).filter(([name]) => name.endsWith('-pg'));
      expect(new Set(pgUrls.map(([, url]) => new URL(url).hostname)).size).toBe(3);
      for (const [, url] of pgUrls) expect(new URL(url).hostname).toMatch(/^10\.213\.\d+\.\d+$/);

      const cut = await chaos('partition');
      expect(cut.failover).toMatchObject({ from: cut.target });
      expect(cut.failover!.to).not.toBe(cut.target);
      expect(cut.recoveryMs).not.toBeNull();
      expect(cut.writesAcked).toBeGreaterThan(0);
      expect(cut.writesLost).toBe(0);

      const healed = await chaos('heal');
      expect(healed.target).toBe(cut.target);
      expect(healed.healedMs).not.toBeNull();
      expect(healed.writesLost).toBe(0);
      const oldApi = failover.endpoints[cut.target]!;
      await until(
        `${cut.target} streaming as a replica`,
        async () => (await fetch(`${oldApi}/replica`, { signal: AbortSignal.timeout(1000) })).status === 200,
        30_000,
        200,
      );
      expect((await fetch(`${oldApi}/primary`, { signal: AbortSignal.timeout(1000) })).status).not.toBe(200);

      process.stdout.write(
        `partition: recovery ${cut.recoveryMs} ms, outage ${cut.outageMs} ms, ${cut.writesFailed} writes failed, ${cut.writesLost} lost; heal: healthy after ${healed.healedMs} ms\n`,
      );
      const down = await lab(['down', '--dir', dir]);
      expect(down.code).toBe(0);
      expect(isAlive(state.pid)).toBe(false);
      expect(networkOf(tag!)).toEqual([]);
      expect(ownedDirs(state.pid)).toEqual([]);
      expect(existsSync(dir)).toBe(false);
    },
    300_000,
  );

  it.skipIf(unavailable !== null)(
    `a crashed owner's namespaces, veths and bridge are swept with its service dir${unavailable === null ? '' : ` (skipped: ${unavailable})`}`,
    async () => {
      const script =
        "import('./src/lab/procs/netns.ts').then((m) => { console.log(m.createBridge(2).name); setInterval(() => {}, 1000); })";
      const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const name = await new Promise<string>((resolve) =>
        child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())),
      );
      const tag = /^brpg([0-9a-f]{4})$/.exec(name)?.[1];
      expect(tag).toBeDefined();
      expect(networkOf(tag!)).toHaveLength(5);
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
      expect(sweepOrphans()).toBeGreaterThan(0);
      expect(networkOf(tag!)).toEqual([]);
    },
    60_000,
  );
});
