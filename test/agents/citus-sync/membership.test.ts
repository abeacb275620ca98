import { describe, expect, it } from 'vitest';
import type { RemovalPolicy } from '../../../src/agents/citus-sync/types.js';
import type { CitusNode } from '../../../src/lab/procs/citus.js';
import { citusCases, type NodeRow } from '../../helpers/citus.js';
import { eventually, withKube } from '../../helpers/kube.js';
import { addressOf, citusSyncHarness, TIMINGS, until, type Agent, type ChildReplica } from './harness.js';

// Membership over time against a real control plane and, once each, real Citus 13.2.2 and the SQL
// stand-in: two replicas behind one Lease (the holder killed with -9), and the workers scaled
// 0 -> 5 -> 2 -> 5 under each removal policy.

const kube = withKube({ nodes: 1 });

/** The journal lines of membership writes (the act step's log lines). */
const WRITES = new Set(['added worker', 'activated worker', 'disabled worker', 'removed worker', 'draining worker']);
const writesOf = (agent: Agent): string[] =>
  agent.store.journal
    .since(0, 5000)
    .events.filter((e) => e.kind === 'log' && WRITES.has(e.message))
    .map((e) => `${e.message} ${String(e.fields?.key)}`);
const childWrites = (replica: ChildReplica): string[] =>
  replica.lines
    .filter((l) => l.kind === 'log' && WRITES.has(String(l.message)))
    .map((l) => `${String(l.message)} ${String((l.fields as Record<string, unknown> | undefined)?.key)}`);

describe.each(citusCases())('citus-sync membership against $label', ({ mode, skip }) => {
  describe.skipIf(skip !== undefined)(skip ?? 'a coordinator and five workers', () => {
    const h = citusSyncHarness(kube, { mode, workers: 5 });
    const workers = (): CitusNode[] => [...h.t().cluster.workers];

    it('two replicas: only the Lease holder writes pg_dist_node; killed, the other takes over and converges', async () => {
      const [w1, w2, w3] = workers() as [CitusNode, CitusNode, CitusNode];
      const a = h.spawnReplica({}, 'ra');
      await eventually('ra leads', async () => a.lines.some((l) => l.leading === true), 120_000);
      const b = await h.start({}, 'rb');
      await until([b], 'rb sees ra holding the Lease', async () => {
        const leadership = b.store.getSnapshot().leadership;
        return leadership?.leading === false && leadership.holder?.includes('ra') === true;
      });
      await Promise.all([h.addPod('w1', w1), h.addPod('w2', w2)]);
      await until([b], 'w1 and w2 active', async () => (await h.row(w1))?.isactive && (await h.row(w2))?.isactive);
      const before = await h.workerRows();
      await eventually('ra logged its two writes', async () => childWrites(a).length >= 2);
      expect(childWrites(a).sort()).toEqual([`added worker ${addressOf(w1)}`, `added worker ${addressOf(w2)}`].sort());
      expect(writesOf(b)).toEqual([]);
      expect(b.store.getSnapshot().state?.workers.map((w) => w.key)).toEqual([w1, w2].map(addressOf).sort());

      a.child.kill('SIGKILL');
      const killedAt = Date.now();
      await a.exited;
      await Promise.all([h.addPod('w3', w3), h.pods().setReady('w2', false)]);
      await until([b], 'rb leads', async () => b.store.getSnapshot().leadership?.leading === true);
      const tookOverMs = Date.now() - killedAt;
      expect(tookOverMs).toBeLessThan(TIMINGS.leaseDurationSeconds * 1000 + TIMINGS.retryPeriodMs + 2000);
      await until([b], 'w3 active and w2 disabled by rb', async () =>
        (await h.row(w3))?.isactive === true && (await h.row(w2))?.isactive === false ? true : undefined,
      );
      const after = await h.workerRows();
      expect([...after.keys()].sort()).toEqual([w1, w2, w3].map(addressOf).sort());
      for (const w of [w1, w2]) expect(after.get(addressOf(w))?.nodeid).toBe(before.get(addressOf(w))?.nodeid);
      expect(writesOf(b).sort()).toEqual([`added worker ${addressOf(w3)}`, `disabled worker ${addressOf(w2)}`]);
    }, 240_000);

    it('a pod whose address moves to a second name gets its node renamed in place, never a second row', async () => {
      const [w1, w2] = workers() as [CitusNode, CitusNode];
      const agent = await h.start();
      await Promise.all([h.addPod('w1', w1), h.addPod('w2', w2)]);
      const before = await until([agent], 'w1 and w2 active, w1 recorded on its pod', async () => {
        const [r1, r2, pod] = await Promise.all([h.row(w1), h.row(w2), h.pods().get('w1')]);
        const recorded = pod?.metadata?.annotations?.['pgdeck.io/citus-node'];
        return r1?.isactive && r2?.isactive && recorded === String(r1.nodeid) ? r1 : undefined;
      });
      const db = h.t().coordinator;
      await db.query('CREATE TABLE items (id int PRIMARY KEY, v text)');
      await db.query("SELECT create_distributed_table('items', 'id', shard_count => 4)");
      await db.query("INSERT INTO items SELECT g, 'v' || g FROM generate_series(1, 100) g");

      const moved = { host: 'localhost', port: w1.port };
      await h.pods().setAddress('w1', addressOf(moved));
      await until([agent], 'w1 renamed to localhost', async () => (await h.row(moved))?.isactive === true);
      const rows = await h.workerRows();
      expect([...rows.keys()].sort()).toEqual([addressOf(moved), addressOf(w2)].sort());
      expect(rows.get(addressOf(moved))).toMatchObject({ nodeid: before.nodeid, groupid: before.groupid });
      const renamed = agent.store.journal.since(0, 5000).events.filter((e) => e.kind === 'node-renamed');
      expect(renamed.map((e) => e.message)).toEqual([
        `pod w1 moved from ${addressOf(w1)} to ${addressOf(moved)}: node ${before.nodeid} renamed`,
      ]);
      const count = await until([agent], 'every row readable through the new name', async () => {
        const res = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM items');
        return res.rows[0]!.n;
      });
      expect(count).toBe(100);
      expect(
        writesOf(agent)
          .filter((w) => w.startsWith('added'))
          .sort(),
      ).toEqual([`added worker ${addressOf(w1)}`, `added worker ${addressOf(w2)}`].sort());
    });

    const policies: RemovalPolicy[] = ['disable', 'remove', 'drain'];
    it.each(policies)('scales 0 -> 5 -> 2 -> 5 under the %s policy', async (policy) => {
      const ws = workers();
      const names = ws.map((_, i) => `w${i + 1}`);
      const agent = await h.start({ policy });
      const wait = <T>(what: string, check: () => Promise<T | false | undefined>) =>
        until([agent], what, check, 60_000);
      const activeRows = (count: number) => async () => {
        const rows = await h.workerRows();
        return [...rows.values()].filter((r) => r.isactive).length === count ? rows : undefined;
      };
      await wait('a first pass over no pods', async () => {
        const state = agent.store.getSnapshot().state;
        return state?.pods.synced === true && state.coordinator.reachable;
      });
      expect((await h.workerRows()).size).toBe(0);

      await Promise.all(ws.map((w, i) => h.addPod(names[i]!, w)));
      const five = await wait('five workers active', activeRows(5));
      expect([...five.keys()].sort()).toEqual(ws.map(addressOf).sort());
      const firstIds = new Map([...five].map(([k, r]) => [k, r.nodeid]));

      await Promise.all(names.slice(2).map((n) => h.pods().delete(n)));
      const [kept, gone] = [ws.slice(0, 2).map(addressOf), ws.slice(2).map(addressOf)];
      const two = await wait(`scaled to two under ${policy}`, async () => {
        const rows = await h.workerRows();
        const down = gone.every((k) => (policy === 'disable' ? rows.get(k)?.isactive === false : !rows.has(k)));
        return down && kept.every((k) => rows.get(k)?.isactive === true) ? rows : undefined;
      });
      expect([...two.keys()].sort()).toEqual(policy === 'disable' ? ws.map(addressOf).sort() : kept.sort());
      for (const [k, r] of two) expect(r.nodeid).toBe(firstIds.get(k));
      await wait('the removed pods gone', async () =>
        (await Promise.all(names.slice(2).map((n) => h.pods().get(n)))).every((p) => p === undefined),
      );

      await Promise.all(ws.slice(2).map((w, i) => h.addPod(names[i + 2]!, w)));
      const again = await wait('five workers active again', activeRows(5));
      expect([...again.keys()].sort()).toEqual(ws.map(addressOf).sort());
      const maxFirst = Math.max(...firstIds.values());
      for (const k of kept) expect(again.get(k)?.nodeid).toBe(firstIds.get(k));
      for (const k of gone) {
        const row: NodeRow = again.get(k)!;
        if (policy === 'disable') expect(row.nodeid).toBe(firstIds.get(k));
        else expect(row.nodeid).toBeGreaterThan(maxFirst);
      }
    });
  });
});
