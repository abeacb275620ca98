import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { TEST_TASK_ID } from '../../src/ui/agents/autoscaler/commands.js';
import { taskPods } from '../agents/autoscaler/harness.js';
import { eventually, withKube } from '../helpers/kube.js';
import { withRedis } from '../helpers/services.js';
import { TmuxTerminal } from '../helpers/tmux.js';
import { bannerOf, deadLetterRows, selectedRow, targetRow, taskRow } from './autoscaler-screen.js';
import { wellFormed } from './screen.js';

const root = join(import.meta.dirname, '..', '..');
const STREAM = 'otto:scale:events';
const DEAD = 'otto:scale:events:dead';

/**
 * The console (built CLI in tmux, 80x24) attached to a headless `pgdeck --agent autoscaler` daemon on
 * real Redis and a real API server: events added to the stream show as the stream's figures and workers
 * per task, a malformed one as a dead letter with its reason; `t` sends the test event, `+`/`-` scale
 * the target, `e` retries and `x` drops a dead letter, each after its preview and a yes.
 */
describe('the console attached to a headless autoscaler (built CLI in tmux, real Redis and control plane)', () => {
  const kube = withKube({ nodes: 1 });
  const redis = withRedis();
  const token = randomBytes(24).toString('hex');
  const dir = mkdtempSync(join(tmpdir(), 'pgdeck-autoscaler-e2e-'));
  let namespace = '';
  let daemon: ChildProcess | undefined;
  let term: TmuxTerminal | undefined;
  let client: Redis;
  let apps: AppsV1Api;
  let url = '';
  const logs: Record<string, unknown>[] = [];

  beforeAll(async () => {
    expect(existsSync(join(root, 'dist', 'main.js')), 'dist/main.js is missing: run `npm run build` first').toBe(true);
    namespace = await kube().namespace('as-e2e');
    apps = kube().kubeConfig.makeApiClient(AppsV1Api);
    const labels = { app: 'e2e-worker' };
    await apps.createNamespacedStatefulSet({
      namespace,
      body: {
        metadata: { name: 'e2e-workers' },
        spec: {
          replicas: 1,
          serviceName: 'e2e-workers',
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: { containers: [{ name: 'w', image: 'registry.example/w:1' }] } },
        },
      },
    });
    client = new Redis({ host: redis().host, port: redis().port });
    client.on('error', () => undefined);
    const config = {
      listen: '127.0.0.1:0',
      agents: {
        autoscaler: {
          redis: { host: redis().host, port: redis().port, stream: STREAM, deadLetterStream: DEAD },
          consumer: 'e2e-0',
          namespace,
          kubeconfig: kube().plane.kubeconfigPath,
          agentImage: 'registry.example/otto-agent:1.0',
          retentionSeconds: 3600,
          targets: { workers: { kind: 'StatefulSet', name: 'e2e-workers', min: 1, max: 3, cooldownSeconds: 0 } },
        },
      },
    };
    const file = join(dir, 'config.yaml');
    writeFileSync(file, stringify(config));
    const child = spawn(process.execPath, ['dist/main.js', '--agent', 'autoscaler', '--config', file], {
      cwd: root,
      env: { ...process.env, PGDECK_TOKEN: token, KUBECONFIG: kube().plane.kubeconfigPath, NODE_ENV: 'production' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    daemon = child;
    createInterface({ input: child.stdout! }).on('line', (l) => logs.push(JSON.parse(l) as Record<string, unknown>));
    url = await eventually(
      'the daemon serving',
      async () => {
        if (child.exitCode !== null) throw new Error(`the daemon exited ${child.exitCode}: ${JSON.stringify(logs)}`);
        const serving = logs.find((l) => String(l.msg).startsWith('serving autoscaler on '));
        return serving === undefined ? undefined : String(serving.url);
      },
      120_000,
    );
    await eventually('the consumer group', async () => (await client.xinfo('GROUPS', STREAM)) as unknown[], 60_000);
  }, 240_000);

  afterAll(async () => {
    term?.kill();
    if (daemon !== undefined && daemon.exitCode === null) {
      daemon.kill('SIGTERM');
      await once(daemon, 'exit');
    }
    client?.disconnect();
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  const replicas = async (): Promise<number | undefined> =>
    (await apps.readNamespacedStatefulSet({ namespace, name: 'e2e-workers' })).spec?.replicas;

  it('shows the stream, lag and workers as events arrive, and sends, scales and handles dead letters from its keys', async () => {
    const cli = `env -u CI PGDECK_TOKEN=${token} NODE_ENV=production node dist/main.js attach ${url}`;
    term = TmuxTerminal.start(cli, { cwd: root, columns: 80, rows: 24, prefix: 'pgdeck-autoscaler' });
    const t = term;
    /** Moves the selection down until `want` holds (at most `max` steps), each step seen on the screen. */
    const selectDown = async (what: string, want: (s: string) => boolean, max = 30): Promise<void> => {
      for (let i = 0; i < max && !want(t.screen()); i++) {
        const from = selectedRow(t.last);
        t.keys('j');
        await t.waitFor(`the selection to move off ${from ?? 'none'}`, (s) => selectedRow(s) !== from, 10_000);
      }
      await t.waitFor(what, want, 10_000);
    };
    const confirm = async (what: string, expected: string): Promise<string> => {
      const preview = await t.waitFor(`the ${what} preview`, (s) => s.includes('Proceed? y/enter = yes'), 30_000);
      expect(preview).toContain(expected);
      t.keys('y');
      await t.waitFor(`the ${what} preview to close`, (s) => wellFormed(s) && !s.includes('Proceed?'), 30_000);
      return preview;
    };
    try {
      await t.waitFor('the console attached to the autoscaler', (s) => wellFormed(s) && /autoscaler/.test(s), 90_000);
      t.keys(':', 'a', 's', 'Enter');
      const empty = await t.waitFor(
        'the Autoscaler view, stream empty',
        // lag '?' until the daemon's first pass over Redis: the console can be up before it
        (s) =>
          wellFormed(s) && /^pgdeck\b.*\bAutoscaler\b/.test(s) && bannerOf(s)?.length === 0 && bannerOf(s)?.lag !== '?',
        30_000,
      );
      expect(bannerOf(empty)).toMatchObject({ lag: '0', pending: 0, inFlight: 0, deadLetters: 0 });
      expect(taskRow(empty, 'e2e-a')).toBeUndefined();

      await client.xadd(STREAM, '*', 'type', 'scale_up', 'pod_count', '2', 'task_id', 'e2e-a');
      const up = await t.waitFor(
        'task e2e-a with 2 workers, the stream at length 1 and lag 0',
        (s) => {
          const row = taskRow(s, 'e2e-a');
          return row !== undefined && row.pending + row.running === 2 && bannerOf(s)?.length === 1;
        },
        60_000,
      );
      expect(bannerOf(up)).toMatchObject({ lag: '0', pending: 0, deadLetters: 0 });
      expect((await taskPods(kube().kubeConfig.makeApiClient(CoreV1Api), namespace)).length).toBe(2);

      await client.xadd(STREAM, '*', 'type', 'scale_up', 'pod_count', 'abc', 'task_id', 'e2e-bad');
      const dead = await t.waitFor(
        'the malformed event as a dead letter with its reason',
        (s) => bannerOf(s)?.deadLetters === 1 && deadLetterRows(s).length === 1,
        60_000,
      );
      expect(deadLetterRows(dead)[0]?.reason).toContain('pod_count must be a whole number');
      expect(bannerOf(dead)?.length).toBe(2);

      t.keys('t');
      await confirm('test event', `XADD ${STREAM} * type scale_up pod_count 1 task_id ${TEST_TASK_ID}`);
      await t.waitFor(
        `the test event's task ${TEST_TASK_ID} with 1 worker`,
        (s) => {
          const row = taskRow(s, TEST_TASK_ID);
          return row !== undefined && row.pending + row.running === 1 && bannerOf(s)?.length === 3;
        },
        60_000,
      );

      t.keys('Tab');
      await selectDown('the target workers selected', (s) => targetRow(s, 'workers')?.selected === true);
      expect(targetRow(t.last, 'workers')?.replicas).toBe('1');
      t.keys('+');
      await confirm('scale up', `scale StatefulSet ${namespace}/e2e-workers from 1 to 2 replicas`);
      await eventually('the StatefulSet at 2 replicas', async () => (await replicas()) === 2, 30_000);
      await t.waitFor('the target at 2 replicas', (s) => targetRow(s, 'workers')?.replicas === '2', 30_000);
      t.keys('-');
      await confirm('scale down', `scale StatefulSet ${namespace}/e2e-workers from 2 to 1 replicas`);
      await eventually('the StatefulSet back at 1 replica', async () => (await replicas()) === 1, 30_000);
      await t.waitFor('the target at 1 replica', (s) => targetRow(s, 'workers')?.replicas === '1', 30_000);

      const [letter] = await client.xrange(DEAD, '-', '+');
      expect(letter).toBeDefined();
      const [firstId] = letter!;
      t.keys('Tab', 'Tab');
      await selectDown('the dead letter selected', (s) => deadLetterRows(s)[0]?.selected === true);
      t.keys('e');
      await confirm('retry', `retry dead letter ${firstId} on ${STREAM}`);
      const retried = await t.waitFor(
        'the retried entry dead-lettered again under a new id',
        (s) => {
          const rows = deadLetterRows(s);
          return rows.length === 1 && rows[0]!.id !== firstId && bannerOf(s)?.length === 4;
        },
        60_000,
      );
      expect(deadLetterRows(retried)[0]?.reason).toContain('pod_count must be a whole number');
      const again = await client.xrange(DEAD, '-', '+');
      expect(again.map(([id]) => id)).not.toContain(firstId);
      expect(again).toHaveLength(1);

      await selectDown('the new dead letter selected', (s) => deadLetterRows(s)[0]?.selected === true);
      t.keys('x');
      await confirm('drop', `drop dead letter ${again[0]![0]}`);
      await t.waitFor(
        'no dead letters',
        (s) => bannerOf(s)?.deadLetters === 0 && deadLetterRows(s).length === 0,
        30_000,
      );
      expect(await client.xlen(DEAD)).toBe(0);

      t.keys('q');
      expect(await t.waitForExit(15_000)).toBe(0);
    } catch (error) {
      const e = error as Error;
      e.message = `${e.message}\nthe last screen was:\n${t.last}\nthe daemon's last lines:\n${logs
        .slice(-20)
        .map((l) => JSON.stringify(l))
        .join('\n')}`;
      throw error;
    }
  }, 400_000);
});
