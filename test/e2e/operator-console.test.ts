import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KUBE_RESOURCES, type KubeClient, type KubeObject } from '../../src/agents/adapters/kube.js';
import { logTail, startDaemon, waitUntil, type Daemon } from '../../src/lab/procs/daemon.js';
import { freePort } from '../../src/lab/procs/ports.js';
import { createServiceDir, type ServiceDir } from '../../src/lab/procs/service-dir.js';
import {
  clusterSpec,
  createCluster,
  createVolumes,
  installCrd,
  labelRoles,
  readCluster,
} from '../agents/patroni-operator/harness.js';
import { adminKube, eventually, withKube } from '../helpers/kube.js';
import { TmuxTerminal } from '../helpers/tmux.js';
import { wellFormed } from './screen.js';

const root = join(import.meta.dirname, '..', '..');

/** A PostgresCluster's row in the Clusters view: `▶ ns/orders  Running  3/3  orders-0  all conditions met`. */
function clusterRow(
  screen: string,
  key: string,
): { selected: boolean; phase: string; ready: string; primary: string; conditions: string } | null {
  const escaped = key.replace(/[/-]/g, (c) => `\\${c}`);
  for (const line of screen.split('\n')) {
    const m = new RegExp(`^(▶ | {2})${escaped}\\s+(\\S+(?: \\(paused\\))?)\\s+(\\d+/\\d+)\\s+(\\S+)\\s+(.*)$`).exec(
      line,
    );
    if (m !== null) return { selected: m[1] === '▶ ', phase: m[2]!, ready: m[3]!, primary: m[4]!, conditions: m[5]! };
  }
  return null;
}

/** A member's row below: `  ns/orders  orders-0  primary  ready`. */
const memberRow = (screen: string, key: string, member: string): string | undefined =>
  new RegExp(
    `^(?:▶ | {2})${key.replace(/[/-]/g, (c) => `\\${c}`)}\\s+${member}\\s+(primary|replica|unknown)\\s+(ready|not ready)\\s*$`,
    'm',
  )
    .exec(screen)
    ?.slice(1, 3)
    .join(' ');

/**
 * The console (built CLI, in tmux) attached to a headless `pgdeck --agent patroni-operator` daemon on a
 * real control plane: what a person applies with kubectl shows in the Clusters view with its phase and
 * conditions, an invalid spec shows the condition message to act on, and `+` scales after its preview.
 */
describe('the console attached to a headless patroni-operator (built CLI in tmux, real control plane)', () => {
  const kube = withKube({ nodes: 3 });
  const token = randomBytes(24).toString('hex');
  let admin: KubeClient;
  let namespace: string;
  let dir: ServiceDir;
  let daemon: Daemon | undefined;
  let term: TmuxTerminal | undefined;

  beforeAll(async () => {
    expect(existsSync(join(root, 'dist', 'main.js')), 'dist/main.js is missing: run `npm run build` first').toBe(true);
    admin = adminKube(kube());
    await installCrd(admin);
    namespace = await kube().namespace('e2e-pgc');
    await createVolumes(admin, `pv-e2e-${process.pid}`, 4);
    dir = createServiceDir('e2e-operator');
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const kubeconfig = kube().plane.kubeconfigPath;
    daemon = startDaemon({
      name: 'patroni-operator',
      command: process.execPath,
      args: [
        join(root, 'dist', 'main.js'),
        ...['--agent', 'patroni-operator', '--listen', `127.0.0.1:${port}`],
        ...['--kubeconfig', kubeconfig, '--watch-namespace', namespace, '--operator-instance', 'operator-0'],
      ],
      dir,
      env: { ...process.env, PGDECK_TOKEN: token, KUBECONFIG: kubeconfig, PGDECK_NAMESPACE: namespace },
    });
    const d = daemon;
    await waitUntil(
      'the operator daemon answers /health',
      async () => (await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) })).status === 200,
      60_000,
      { logFile: d.logFile, processes: [{ name: 'patroni-operator', daemon: d }], intervalMs: 100 },
    );
    term = TmuxTerminal.start(`env -u CI PGDECK_TOKEN=${token} NODE_ENV=production node dist/main.js attach ${url}`, {
      cwd: root,
      columns: 160,
      rows: 48,
      prefix: 'pgdeck-operator',
    });
  }, 240_000);

  afterAll(async () => {
    term?.kill();
    await daemon?.stop(5000);
    dir?.remove();
    await admin?.close();
  }, 60_000);

  it('shows an applied PostgresCluster Running with its members, an invalid spec with its message, and scales with + after the preview', async () => {
    const t = term!;
    const orders = `${namespace}/orders`;
    const broken = `${namespace}/broken`;
    try {
      await t.waitFor(
        'the console header (attached)',
        (s) => wellFormed(s) && /\(attached\)/.test(s.split('\n')[0]!),
        120_000,
      );
      t.keys(':', 'p', 'g', 'c', 'Enter');
      await t.waitFor(
        'the PostgresClusters view, empty',
        (s) => wellFormed(s) && /^pgdeck\b.*\bPostgresClusters\b/.test(s) && s.includes('no PostgresCluster'),
        30_000,
      );

      await createCluster(admin, namespace, 'orders', clusterSpec());
      await t.waitFor(`${orders} in the view`, (s) => clusterRow(s, orders) !== null, 30_000);
      await labelRoles(kube(), admin, namespace, 'orders', 3);
      const runningScreen = await t.waitFor(
        `${orders} Running 3/3 with orders-0 as primary`,
        (s) => {
          const r = clusterRow(s, orders);
          return r?.phase === 'Running' && r.ready === '3/3' && memberRow(s, orders, 'orders-2') === 'replica ready';
        },
        60_000,
      );
      expect(clusterRow(runningScreen, orders)).toMatchObject({
        primary: 'orders-0',
        conditions: 'all conditions met',
      });
      expect(memberRow(runningScreen, orders, 'orders-0')).toBe('primary ready');
      expect(memberRow(runningScreen, orders, 'orders-1')).toBe('replica ready');

      await createCluster(admin, namespace, 'broken', clusterSpec({ version: 9 }));
      const invalid = await t.waitFor(
        `${broken} with its ConfigurationValid message`,
        (s) =>
          clusterRow(s, broken)?.conditions.includes('ConfigurationValid=False: spec.version 9 is not supported') ===
          true,
        30_000,
      );
      expect(clusterRow(invalid, broken)?.ready).toBe('0/3');
      expect(
        await Promise.all([
          admin.objects('test').get({ resource: KUBE_RESOURCES.statefulSets, namespace, name: 'broken' }),
          admin.objects('test').get({ resource: KUBE_RESOURCES.configMaps, namespace, name: 'broken-spilo' }),
        ]),
      ).toEqual([undefined, undefined]);

      const selectedLine = (s: string): string | undefined => s.split('\n').find((l) => l.startsWith('▶ '));
      t.keys('g');
      await t.waitFor(
        'the first PostgresCluster selected',
        (s) => clusterRow(s, broken)?.selected === true || clusterRow(s, orders)?.selected === true,
        10_000,
      );
      for (let i = 0; i < 4 && clusterRow(t.screen(), orders)?.selected !== true; i++) {
        const from = selectedLine(t.last);
        t.keys('j');
        await t.waitFor('the selection to move down', (s) => selectedLine(s) !== from, 10_000);
      }
      await t.waitFor(`${orders} selected`, (s) => clusterRow(s, orders)?.selected === true, 10_000);
      t.keys('+');
      const preview = await t.waitFor(
        'the scale preview and question',
        (s) => s.includes('Proceed? y/enter = yes') && s.includes(`${orders}: 3 -> 4 members`),
        30_000,
      );
      expect(preview).toContain('1 replica(s) are created and clone from the primary');
      const before = await readCluster(admin, namespace, 'orders');
      expect((before?.spec as { replicas?: number }).replicas).toBe(3);
      t.keys('y');
      await t.waitFor('the preview to close', (s) => !s.includes('Proceed? y/enter = yes'), 15_000);

      const sts = await eventually(
        'the StatefulSet at 4 replicas',
        async () => {
          const o = await admin.objects('test').get<KubeObject>({
            resource: KUBE_RESOURCES.statefulSets,
            namespace,
            name: 'orders',
          });
          return (o?.spec as { replicas?: number } | undefined)?.replicas === 4 ? o : undefined;
        },
        30_000,
      );
      expect(sts.metadata?.name).toBe('orders');
      expect(((await readCluster(admin, namespace, 'orders'))?.spec as { replicas?: number }).replicas).toBe(4);
      await labelRoles(kube(), admin, namespace, 'orders', 4);
      // The member rows follow the pods' role labels and may come a frame after the cluster's row.
      const scaled = await t.waitFor(
        `${orders} Running 4/4 with orders-3 a ready replica`,
        (s) =>
          clusterRow(s, orders)?.phase === 'Running' &&
          clusterRow(s, orders)?.ready === '4/4' &&
          memberRow(s, orders, 'orders-3') === 'replica ready',
        60_000,
      );
      expect(memberRow(scaled, orders, 'orders-0')).toBe('primary ready');

      t.keys('q');
      expect(await t.waitForExit(15_000)).toBe(0);
    } catch (error) {
      const e = error as Error;
      e.message = `${e.message}\nthe last screen was:\n${t.last}\nthe daemon's log:\n${daemon === undefined ? '' : logTail(daemon.logFile, 30)}`;
      throw error;
    }
  }, 420_000);
});
