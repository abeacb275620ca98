import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KUBE_RESOURCES, type KubeClient, type KubeObject } from '../../src/agents/adapters/kube.js';
import { logTail } from '../../src/lab/procs/daemon.js';
import {
  clusterSpec,
  createCluster,
  createVolumes,
  installCrd,
  labelRoles,
  readCluster,
} from '../agents/patroni-operator/harness.js';
import { adminKube, eventually, withKube } from '../helpers/kube.js';
import type { TmuxTerminal } from '../helpers/tmux.js';
import { attachConsole, clusterRow, memberRow, startOperatorDaemon, type OperatorDaemon } from './operator-screen.js';
import { wellFormed } from './screen.js';

/**
 * The console (built CLI, in tmux) attached to a headless `pgdeck --agent patroni-operator` daemon on a
 * real control plane: what a person applies with kubectl shows in the Clusters view with its phase and
 * conditions, an invalid spec shows the condition message to act on, and `+` scales after its preview.
 */
describe('the console attached to a headless patroni-operator (built CLI in tmux, real control plane)', () => {
  const kube = withKube({ nodes: 3 });
  let admin: KubeClient;
  let namespace: string;
  let operator: OperatorDaemon | undefined;
  let term: TmuxTerminal | undefined;

  beforeAll(async () => {
    admin = adminKube(kube());
    await installCrd(admin);
    namespace = await kube().namespace('e2e-pgc');
    await createVolumes(admin, `pv-e2e-${process.pid}`, 4);
    operator = await startOperatorDaemon(kube(), namespace);
    term = attachConsole(operator);
  }, 240_000);

  afterAll(async () => {
    term?.kill();
    await operator?.daemon.stop(5000);
    operator?.dir.remove();
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
      e.message = `${e.message}\nthe last screen was:\n${t.last}\nthe daemon's log:\n${operator === undefined ? '' : logTail(operator.daemon.logFile, 30)}`;
      throw error;
    }
  }, 420_000);
});
