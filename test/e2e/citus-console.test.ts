import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { CitusNode } from '../../src/lab/procs/citus.js';
import { citusCases, nodeRow, withCitus } from '../helpers/citus.js';
import { WORKER_SELECTOR, WorkerPods } from '../helpers/citus-pods.js';
import { eventually, withKube } from '../helpers/kube.js';
import { TmuxTerminal } from '../helpers/tmux.js';
import { wellFormed } from './screen.js';

const root = join(import.meta.dirname, '..', '..');
const kube = withKube({ nodes: 1 });

interface WorkerLine {
  readonly selected: boolean;
  readonly address: string;
  readonly pod: string;
  readonly active: string;
  readonly nodeid: string;
  readonly shards: string;
  readonly drain: string;
}

/** The Citus view's worker rows: `▶ 127.0.0.1:5433  w1  Running  yes  2  yes  2  -  -`. */
function workers(screen: string): WorkerLine[] {
  const line = /^(▶ | {2})(\S+:\d+)\s+(\S+)\s+(\S+)\s+(yes|no|-)\s+(\d+|-)\s+(yes|no|-)\s+(\d+|-)\s+(\S+)/;
  return screen.split('\n').flatMap((l) => {
    const m = line.exec(l);
    if (m === null) return [];
    return [
      {
        selected: m[1] === '▶ ',
        address: m[2]!,
        pod: m[3]!,
        nodeid: m[6]!,
        active: m[7]!,
        shards: m[8]!,
        drain: m[9]!,
      },
    ];
  });
}

const rowOf = (screen: string, w: CitusNode): WorkerLine | undefined =>
  workers(screen).find((r) => r.address === `${w.host}:${w.port}`);

/**
 * The console (built CLI in tmux) attached to a headless `pgdeck --agent citus-sync` daemon, over a real
 * API server and, once each, real Citus 13.2.2 and the SQL stand-in: pods scaled up show as nodes of
 * pg_dist_node, and drain, re-activate and remove work from the console's keys with their previews.
 */
describe.each(citusCases())('the Citus view over a headless citus-sync daemon against $label', ({ mode, skip }) => {
  describe.skipIf(skip !== undefined)(skip ?? 'a coordinator and three workers', () => {
    const lab = withCitus({ mode, workers: 3 });
    const token = randomBytes(24).toString('hex');
    const dir = mkdtempSync(join(tmpdir(), 'pgdeck-citus-e2e-'));
    let daemon: ChildProcess | undefined;
    let term: TmuxTerminal | undefined;
    let pods: WorkerPods;
    let url = '';

    beforeAll(async () => {
      expect(existsSync(join(root, 'dist', 'main.js')), 'dist/main.js is missing: run `npm run build` first').toBe(
        true,
      );
      const namespace = await kube().namespace('citus-e2e');
      pods = new WorkerPods(kube(), namespace);
      const { coordinator } = lab().cluster;
      const config = {
        listen: '127.0.0.1:0',
        kube: { namespace },
        agents: {
          'citus-sync': {
            host: `${coordinator.host}:${coordinator.port}`,
            namespace,
            labelSelector: WORKER_SELECTOR,
            addressing: 'annotation',
            scanIntervalSeconds: 2,
            kubeconfig: kube().plane.kubeconfigPath,
            replica: 'e2e',
            policy: 'disable',
          },
        },
      };
      const file = join(dir, 'config.yaml');
      writeFileSync(file, stringify(config));
      const env = {
        ...process.env,
        PGDECK_TOKEN: token,
        KUBECONFIG: kube().plane.kubeconfigPath,
        NODE_ENV: 'production',
      };
      const child = spawn(process.execPath, ['dist/main.js', '--agent', 'citus-sync', '--config', file], {
        cwd: root,
        env,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      daemon = child;
      const logs: Record<string, unknown>[] = [];
      createInterface({ input: child.stdout! }).on('line', (l) => logs.push(JSON.parse(l) as Record<string, unknown>));
      url = await eventually(
        'the daemon serving',
        async () => {
          if (child.exitCode !== null) throw new Error(`the daemon exited ${child.exitCode}: ${JSON.stringify(logs)}`);
          const serving = logs.find((l) => String(l.msg).startsWith('serving citus-sync on '));
          return serving === undefined ? undefined : String(serving.url);
        },
        120_000,
      );
    }, 180_000);

    afterAll(async () => {
      term?.kill();
      if (daemon !== undefined && daemon.exitCode === null) {
        daemon.kill('SIGTERM');
        await once(daemon, 'exit');
      }
      rmSync(dir, { recursive: true, force: true });
    }, 30_000);

    it('shows pods scaled 0 -> 3 as active nodes, then drains, re-activates and removes one from its keys', async () => {
      const cli = `env -u CI PGDECK_TOKEN=${token} NODE_ENV=production node dist/main.js attach ${url}`;
      term = TmuxTerminal.start(cli, { cwd: root, columns: 200, rows: 40, prefix: 'pgdeck-citus' });
      const t = term;
      const ws = lab().cluster.workers as readonly CitusNode[];
      const [w1] = ws as [CitusNode];
      const db = lab().coordinator;
      try {
        await t.waitFor('the console attached', (s) => wellFormed(s) && /\(attached\)/.test(s), 90_000);
        t.keys('4');
        await t.waitFor(
          'the Citus view with no workers yet',
          (s) => wellFormed(s) && /^pgdeck\b.*\bCitus workers\b/.test(s) && /WORKER\s+POD\s+PHASE\s+READY/.test(s),
          30_000,
        );
        expect(workers(t.last)).toEqual([]);

        for (const [i, w] of ws.entries()) {
          await pods.create(`w${i + 1}`, `${w.host}:${w.port}`);
          await pods.setReady(`w${i + 1}`, true);
        }
        const scaled = await t.waitFor(
          'three workers shown active with their nodeids',
          (s) => wellFormed(s) && ws.every((w) => rowOf(s, w)?.active === 'yes' && rowOf(s, w)?.nodeid !== '-'),
          60_000,
        );
        for (const [i, w] of ws.entries()) {
          const row = await nodeRow(db, w);
          expect(row?.isactive).toBe(true);
          expect(rowOf(scaled, w)).toMatchObject({ pod: `w${i + 1}`, nodeid: String(row?.nodeid) });
        }

        await db.query('CREATE TABLE items (id int PRIMARY KEY, v text)');
        await db.query("SELECT create_distributed_table('items', 'id', shard_count => 6)");
        await db.query("INSERT INTO items SELECT g, 'v' || g FROM generate_series(1, 300) g");
        const placementsOn = async (w: CitusNode): Promise<number> =>
          (
            await db.query<{ n: number }>(
              `SELECT count(*)::int AS n FROM pg_dist_placement p JOIN pg_dist_node n ON n.groupid = p.groupid
               WHERE n.nodename = $1 AND n.nodeport = $2`,
              [w.host, w.port],
            )
          ).rows[0]!.n;
        const before = await placementsOn(w1);
        expect(before).toBeGreaterThan(0);
        const nodeid = String((await nodeRow(db, w1))!.nodeid);
        await t.waitFor(`${w1.port}'s shards shown`, (s) => rowOf(s, w1)?.shards === String(before), 30_000);

        const selected = (s: string): string | undefined => workers(s).find((r) => r.selected)?.address;
        for (let i = 0; i < ws.length && rowOf(t.screen(), w1)?.selected !== true; i++) {
          const from = selected(t.last);
          t.keys('j');
          await t.waitFor(`the selection to move off ${from ?? 'none'}`, (s) => selected(s) !== from, 10_000);
        }
        expect(rowOf(t.last, w1)?.selected).toBe(true);

        t.keys('d');
        const drain = await t.waitFor('the drain preview', (s) => s.includes('Proceed? y/enter = yes'), 30_000);
        expect(drain).toContain(`drain node ${nodeid} (${w1.host}:${w1.port})`);
        expect(drain).toContain(`${before} shard placement(s) would move off node ${nodeid}`);
        t.keys('y');
        await t.waitFor(
          `${w1.port} drained: no shards, drain state drained`,
          (s) => rowOf(s, w1)?.shards === '0' && rowOf(s, w1)?.drain === 'drained',
          120_000,
        );
        expect(await placementsOn(w1)).toBe(0);
        expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM items')).rows[0]!.n).toBe(300);

        await pods.delete('w1');
        await t.waitFor(
          `${w1.port} disabled with its pod gone`,
          (s) => rowOf(s, w1)?.pod === '-' && rowOf(s, w1)?.active === 'no',
          60_000,
        );
        expect((await nodeRow(db, w1))?.isactive).toBe(false);

        t.keys('a');
        const activate = await t.waitFor('the activate preview', (s) => s.includes('Proceed? y/enter = yes'), 30_000);
        expect(activate).toContain(`activate node ${nodeid} (${w1.host}:${w1.port})`);
        t.keys('y');
        await t.waitFor(
          'the activate result',
          (s) => s.includes(`activate: done: activate node ${nodeid} (${w1.host}:${w1.port}): done`),
          60_000,
        );

        t.keys('x');
        const remove = await t.waitFor('the remove preview', (s) => s.includes('Proceed? y/enter = yes'), 30_000);
        expect(remove).toContain(`remove node ${nodeid} (${w1.host}:${w1.port})`);
        t.keys('y');
        await t.waitFor(
          `the preview closed and ${w1.port} gone from the view`,
          (s) => wellFormed(s) && !s.includes('Proceed?') && /WORKER\s+POD/.test(s) && rowOf(s, w1) === undefined,
          60_000,
        );
        expect(await nodeRow(db, w1)).toBeUndefined();
        expect(
          workers(t.last)
            .map((r) => r.address)
            .sort(),
        ).toEqual(
          ws
            .slice(1)
            .map((w) => `${w.host}:${w.port}`)
            .sort(),
        );

        t.keys('q');
        expect(await t.waitForExit(15_000)).toBe(0);
      } catch (error) {
        const message = (error as Error).message;
        (error as Error).message = message.includes('the screen was:')
          ? message
          : `${message}\nthe last screen was:\n${t.last}`;
        throw error;
      }
    }, 400_000);
  });
});
