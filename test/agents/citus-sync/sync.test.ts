import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { connectKube, type KubeClient } from '../../../src/agents/adapters/kube.js';
import { citusSyncConfigSchema } from '../../../src/agents/citus-sync/config.js';
import { citusSyncAgent } from '../../../src/agents/citus-sync/index.js';
import type { CitusSyncConfig, CitusSyncState } from '../../../src/agents/citus-sync/types.js';
import { startAgent, type RunningAgent } from '../../../src/agents/kernel/runtime.js';
import type { CitusNode } from '../../../src/lab/procs/citus.js';
import { freePort } from '../../../src/lab/procs/ports.js';
import { citusCases, nodeRow, resetMembership, withCitus, type CitusTestCluster } from '../../helpers/citus.js';
import { WORKER_SELECTOR, WorkerPods } from '../../helpers/citus-pods.js';
import { eventually, withKube } from '../../helpers/kube.js';

// The citus-sync agent against a real control plane and, once each, real Citus 13.2.2 and the SQL
// stand-in: the same tests, the agent's code cannot tell them apart. The restart test comes last: it
// ends the harness's own coordinator session.

const kube = withKube({ nodes: 1 });
const TIMINGS = { leaseDurationSeconds: 3, renewDeadlineMs: 2000, retryPeriodMs: 500 };

type Agent = RunningAgent<CitusSyncConfig, unknown, CitusSyncState>;

describe.each(citusCases())('citus-sync against $label', ({ mode, skip }) => {
  describe.skipIf(skip !== undefined)(skip ?? 'a coordinator and three workers', () => {
    const lab = withCitus({ mode, workers: 3 });
    let t: CitusTestCluster;
    let client: KubeClient;
    let namespace: string;
    let pods: WorkerPods;
    const running: Agent[] = [];

    beforeAll(() => {
      client = connectKube({ source: { kind: 'kubeconfig-text', yaml: kube().plane.kubeconfigYaml } });
    });
    afterAll(async () => {
      await client.close();
    });
    beforeEach(async () => {
      t = lab();
      await resetMembership(t.coordinator, ['items']);
      namespace = await kube().namespace('citus');
      pods = new WorkerPods(kube(), namespace);
    });
    afterEach(async () => {
      await Promise.all(running.splice(0).map((a) => a.close()));
    });

    const start = async (settings: Partial<Record<string, unknown>> = {}, replica = 'r1'): Promise<Agent> => {
      const config = citusSyncConfigSchema.parse({
        host: `${t.cluster.coordinator.host}:${t.cluster.coordinator.port}`,
        namespace,
        labelSelector: WORKER_SELECTOR,
        addressing: 'annotation',
        scanIntervalSeconds: 1,
        kubeconfig: kube().plane.kubeconfigPath,
        replica,
        ...settings,
      });
      const agent = (await startAgent(citusSyncAgent, config, {
        leaderElector: client.leaderElectorFactory({ namespace, timings: TIMINGS }),
        loop: { resyncMs: 1000 },
      })) as Agent;
      running.push(agent);
      return agent;
    };
    /** Waits for `check`; a timeout names what each running agent's keys said last. */
    const until = async <T>(
      what: string,
      check: () => Promise<T | false | undefined>,
      timeoutMs?: number,
    ): Promise<T> => {
      try {
        return await eventually(what, check, timeoutMs);
      } catch (error) {
        const keys = running.flatMap((a) => a.store.getSnapshot().reconciles?.keys ?? []);
        const events = running.flatMap((a) =>
          a.store.journal
            .since(0, 5000)
            .events.filter((e) => e.severity !== 'debug')
            .slice(-12)
            .map((e) => `${e.kind}: ${e.message}`),
        );
        const said = keys.map((k) => `${k.key} ${k.phase}: ${k.summary}`).join(' | ');
        throw new Error(`${String(error)}; keys: ${said}; events: ${events.join(' | ')}`, { cause: error });
      }
    };
    const address = (w: CitusNode): string => `${w.host}:${w.port}`;
    const row = (w: CitusNode) => nodeRow(t.coordinator, w);
    const addPod = async (name: string, w: CitusNode): Promise<void> => {
      await pods.create(name, address(w));
      await pods.setReady(name, true);
    };
    const activeWorkers = async (): Promise<string[]> =>
      (
        await t.coordinator.query<{ a: string }>(
          `SELECT nodename || ':' || nodeport AS a FROM pg_dist_node WHERE groupid <> 0 AND isactive ORDER BY 1`,
        )
      ).rows.map((r) => r.a);

    it('adds ready pods, sets the coordinator host, disables a not-ready one and re-activates it', async () => {
      await start();
      const [w1, w2, w3] = t.cluster.workers as [CitusNode, CitusNode, CitusNode];
      await Promise.all([addPod('w1', w1), addPod('w2', w2), addPod('w3', w3)]);
      const all = [w1, w2, w3].map(address).sort();
      await eventually(
        'three workers active',
        async () => JSON.stringify(await activeWorkers()) === JSON.stringify(all),
      );
      const coordinator = await nodeRow(t.coordinator, t.cluster.coordinator);
      expect(coordinator).toMatchObject({ groupid: 0, shouldhaveshards: false });
      const before = await row(w2);
      await pods.setReady('w2', false);
      await until('w2 disabled', async () => (await row(w2))?.isactive === false);
      await pods.setReady('w2', true);
      await until('w2 active again', async () => (await row(w2))?.isactive === true);
      expect((await row(w2))?.nodeid).toBe(before?.nodeid);
      await pods.delete('w3');
      await until('w3 disabled after its pod is gone', async () => (await row(w3))?.isactive === false);
    });

    it('registers again a node deleted by hand from pg_dist_node, and one re-added after a restart', async () => {
      const [w1, w2] = t.cluster.workers as [CitusNode, CitusNode];
      const first = await start();
      await Promise.all([addPod('w1', w1), addPod('w2', w2)]);
      await until('two workers active', async () => (await activeWorkers()).length === 2);
      const old = (await row(w1))!.nodeid;
      await t.coordinator.query('SELECT citus_remove_node($1, $2)', [w1.host, w1.port]);
      await until('w1 registered again', async () => (await row(w1))?.isactive === true);
      expect((await row(w1))!.nodeid).toBeGreaterThan(old);
      await first.close();
      running.splice(running.indexOf(first), 1);
      await t.coordinator.query('SELECT citus_remove_node($1, $2)', [w2.host, w2.port]);
      await start({}, 'r2');
      await until('w2 registered by the restarted agent', async () => (await row(w2))?.isactive === true);
    });

    it('removes the node of a deleted pod under the remove policy', async () => {
      const [w1, w2] = t.cluster.workers as [CitusNode, CitusNode];
      await start({ policy: 'remove' });
      await Promise.all([addPod('w1', w1), addPod('w2', w2)]);
      await until('two workers active', async () => (await activeWorkers()).length === 2);
      await pods.delete('w2');
      await until('w2 removed', async () => (await row(w2)) === undefined);
      expect(await activeWorkers()).toEqual([address(w1)]);
    });

    it('drains a deleted pod behind its finalizer: every shard moves, then the node and the pod go', async () => {
      const [w1, w2] = t.cluster.workers as [CitusNode, CitusNode];
      await start({ policy: 'drain' });
      await Promise.all([addPod('w1', w1), addPod('w2', w2)]);
      await until('two workers active', async () => (await activeWorkers()).length === 2);
      await until('w2 held by the finalizer', async () =>
        (await pods.get('w2'))?.metadata?.finalizers?.includes('pgdeck.io/citus-drain'),
      );
      const db = t.coordinator;
      await db.query('CREATE TABLE items (id int PRIMARY KEY, v text)');
      await db.query("SELECT create_distributed_table('items', 'id', shard_count => 4)");
      await db.query("INSERT INTO items SELECT g, 'v' || g FROM generate_series(1, 200) g");
      const onW2 = async (): Promise<number> =>
        (
          await db.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_dist_placement p JOIN pg_dist_node n ON n.groupid = p.groupid
             WHERE n.nodename = $1 AND n.nodeport = $2`,
            [w2.host, w2.port],
          )
        ).rows[0]!.n;
      expect(await onW2()).toBeGreaterThan(0);
      await pods.delete('w2');
      await until('w2 removed from pg_dist_node', async () => (await row(w2)) === undefined, 40_000);
      await until('pod w2 gone once released', async () => (await pods.get('w2')) === undefined);
      const placements = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_dist_placement p JOIN pg_dist_node n ON n.groupid = p.groupid
         WHERE n.nodename = $1 AND n.nodeport = $2`,
        [w1.host, w1.port],
      );
      expect(placements.rows[0]!.n).toBe(4);
      const count = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM items');
      expect(count.rows[0]!.n).toBe(200);
    });

    it('registers a dangerous-looking address as an exact string, never as SQL', async () => {
      const [w1] = t.cluster.workers as [CitusNode];
      const agent = await start();
      const evil = `x');DROP_TABLE_pg_dist_node;--`;
      await pods.create('evil', `${evil}:${w1.port}`);
      await pods.setReady('evil', true);
      const key = `${evil}:${w1.port}`;
      const status = await until('the evil key failed', async () =>
        agent.store.getSnapshot().reconciles?.keys.find((k) => k.key === key && k.lastError !== undefined),
      );
      expect(status.lastError?.kind).toBe('unavailable');
      expect(status.lastError?.message).toContain(`could not translate host name "${evil}"`);
      expect((await t.coordinator.query('SELECT count(*)::int AS n FROM pg_dist_node')).rows[0]).toEqual({ n: 1 });
    });

    it('reports an unreachable coordinator as data with a kind, and converges once it answers', async () => {
      const [w1] = t.cluster.workers as [CitusNode];
      const port = await freePort();
      const agent = await start({
        host: `127.0.0.1:${port},${t.cluster.coordinator.host}:${t.cluster.coordinator.port}`,
      });
      await addPod('w1', w1);
      await until('w1 active through the second candidate', async () => (await row(w1))?.isactive === true);
      expect(agent.store.getSnapshot().state?.coordinator.at).toBe(
        `${t.cluster.coordinator.host}:${t.cluster.coordinator.port}`,
      );
      const down = await start({ host: `127.0.0.1:${port}` }, 'r2');
      const state = await until('the coordinator error published', async () =>
        down.store.getSnapshot().state?.coordinator.reachable === false ? down.store.getSnapshot().state : undefined,
      );
      expect(state.coordinator.error).toMatch(/^unavailable: connect to the coordinator at 127\.0\.0\.1:\d+: /);
    });

    it('survives a coordinator restart: a pod readied while it is down is added once it is back', async () => {
      const [w1, w2] = t.cluster.workers as [CitusNode, CitusNode];
      await start();
      await addPod('w1', w1);
      await until('w1 active', async () => (await row(w1))?.isactive === true);
      await t.cluster.coordinator.stop();
      await addPod('w2', w2);
      await t.cluster.coordinator.server.start();
      const fresh = await t.connect(t.cluster.coordinator);
      await until('w2 active after the restart', async () => (await nodeRow(fresh, w2))?.isactive, 60_000);
    });
  });
});
