import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeClient } from '../../src/agents/adapters/kube.js';
import { logTail } from '../../src/lab/procs/daemon.js';
import { clusterSpec, createCluster, installCrd, readCluster } from '../agents/patroni-operator/harness.js';
import { createTokenSecret, localAddress, registerAgentService } from '../helpers/kube-agent-service.js';
import { adminKube, eventually, withKube } from '../helpers/kube.js';
import { TmuxTerminal } from '../helpers/tmux.js';
import { clusterRow, root, startOperatorDaemon, type OperatorDaemon } from './operator-screen.js';
import { wellFormed } from './screen.js';

const SERVICE = 'pgdeck-patroni-operator';
const CONFIRM = 'Proceed? y/enter = yes';

/**
 * `pgdeck attach --kube` (built CLI in tmux, 80x24) on a real control plane: it finds a headless
 * patroni-operator daemon by its Service's labels, reads the token from the Secret and reaches the
 * daemon through the API server's service proxy (the Service's Endpoints point at the daemon on this
 * machine's own address). The console shows the operator's live state, names the route as the source,
 * and `z` pauses a PostgresCluster: the action goes through the proxy to the daemon, which writes it.
 */
describe('pgdeck attach --kube in tmux at 80x24, through the service proxy (built CLI, real control plane)', () => {
  const kube = withKube({ nodes: 1 });
  let admin: KubeClient;
  let namespace = '';
  let operator: OperatorDaemon | undefined;
  let term: TmuxTerminal | undefined;

  beforeAll(async () => {
    admin = adminKube(kube());
    await installCrd(admin);
    namespace = await kube().namespace('e2e-kube-attach');
    const address = localAddress();
    operator = await startOperatorDaemon(kube(), namespace, { host: address });
    await registerAgentService(kube(), namespace, {
      name: SERVICE,
      component: 'patroni-operator',
      ip: address,
      port: Number(new URL(operator.url).port),
    });
    await createTokenSecret(kube(), namespace, operator.token);
  }, 240_000);

  afterAll(async () => {
    term?.kill();
    await operator?.daemon.stop(5000);
    operator?.dir.remove();
    await admin?.close();
  }, 60_000);

  const invoked = (): string[] =>
    logTail(operator!.daemon.logFile, 400)
      .split('\n')
      .filter((l) => l.includes('"action-invoked"'))
      .map((l) => (JSON.parse(l) as { action?: string }).action ?? l);

  it('shows the operator live through the service proxy, names that route, and z pauses a cluster through it', async () => {
    // no PGDECK_TOKEN: the token comes from the Secret, and nothing but the kubeconfig says where the agent is
    const cli = `env -u CI -u PGDECK_TOKEN KUBECONFIG=${kube().plane.kubeconfigPath} NODE_ENV=production node dist/main.js attach --kube -n ${namespace}`;
    term = TmuxTerminal.start(cli, { cwd: root, columns: 80, rows: 24, prefix: 'pgdeck-kube-attach' });
    const t = term;
    const key = `${namespace}/orders`;
    try {
      const overview = await t.waitFor(
        'the Overview with the operator live through the service proxy',
        // at 80 columns the header is cut before `(attached)`: the sources table says how each is reached
        (s) => wellFormed(s) && /service proxy .* live\b/.test(s),
        120_000,
      );
      const source = overview.split('\n').find((l) => l.includes('service proxy'))!;
      // the route, not the local relay's URL; at 80 columns the namespace may be cut (…)
      expect(source).toMatch(/^\s*(▶ )?\s*service proxy e2e-kube-attach/);
      expect(source).not.toMatch(/127\.0\.0\.1/);
      expect(source).toMatch(/\blive\b/);

      t.keys(':', 'p', 'g', 'c', 'Enter');
      await t.waitFor(
        'the PostgresClusters view, empty',
        (s) => wellFormed(s) && /\bPostgresClusters\b/.test(s) && s.includes('no PostgresCluster'),
        30_000,
      );
      // live state: a cluster created after the console attached shows up through the proxy's event stream
      await createCluster(admin, namespace, 'orders', clusterSpec());
      await t.waitFor(`${key} in the view`, (s) => wellFormed(s) && clusterRow(s, key) !== null, 60_000);

      t.keys('g');
      await t.waitFor(`${key} selected`, (s) => clusterRow(s, key)?.selected === true, 10_000);
      const paused = async (): Promise<unknown> =>
        ((await readCluster(admin, namespace, 'orders'))?.spec as { paused?: unknown }).paused;
      expect(await paused()).toBe(false);
      t.keys('z');
      const preview = await t.waitFor('the pause preview and question', (s) => s.includes(CONFIRM), 30_000);
      expect(preview).toMatch(/pause reconciliation/);
      t.keys('y');
      await t.waitFor('the preview to close', (s) => !s.includes(CONFIRM), 15_000);
      await eventually('spec.paused true', async () => ((await paused()) === true ? true : undefined), 30_000);
      expect(invoked()).toEqual(['pause']);
      await t.waitFor(`${key} shown paused`, (s) => clusterRow(s, key)?.phase.endsWith('(paused)') === true, 30_000);

      t.keys('q');
      expect(await t.waitForExit(15_000)).toBe(0);
    } catch (error) {
      const e = error as Error;
      e.message = `${e.message}\nthe last screen was:\n${t.last}\nthe daemon's log:\n${operator === undefined ? '' : logTail(operator.daemon.logFile, 30)}`;
      throw error;
    }
  }, 420_000);
});
