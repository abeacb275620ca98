import { describe, expect, it } from 'vitest';
import { CitusCoordinator, type CitusError } from '../../../src/agents/adapters/citus.js';
import type { CitusNode } from '../../../src/lab/procs/citus.js';
import { citusCases, nodeRow, resetMembership, withCitus } from '../../helpers/citus.js';

/**
 * The coordinator adapter batches the membership calls (and the row reads) that wait for the same
 * turn on its connection: one statement for many nodes, and each call alone when the batch is refused.
 * Against real Citus 13.2.2 and the SQL stand-in.
 */
describe.each(citusCases())('CitusCoordinator batches against $label', ({ mode, skip }) => {
  describe.skipIf(skip !== undefined)(skip ?? 'a coordinator and four workers', () => {
    const t = withCitus({ mode, workers: 4 });
    const coordinator = (): CitusCoordinator => {
      const c = t().cluster.coordinator;
      return new CitusCoordinator({
        hosts: [{ host: c.host, port: c.port }],
        user: 'postgres',
        password: undefined,
        database: 'postgres',
        connectTimeoutMs: 5000,
        statementTimeoutMs: 60_000,
      });
    };
    const workers = (): CitusNode[] => [...t().cluster.workers];

    it('adds, reads, disables, activates and removes four nodes in one statement each', async () => {
      await resetMembership(t().coordinator);
      const c = coordinator();
      try {
        const ws = workers();
        const before = c.statements;
        const ids = await Promise.all(ws.map((w) => c.addNode(w.host, w.port)));
        expect(c.statements - before).toBe(1);
        expect(new Set(ids).size).toBe(ws.length);
        for (const [i, w] of ws.entries()) expect((await nodeRow(t().coordinator, w))?.nodeid).toBe(ids[i]);

        const read = c.statements;
        const rows = await Promise.all([...ws.map((w) => c.node(w.host, w.port)), c.node('127.0.0.1', 1)]);
        expect(c.statements - read).toBe(1);
        expect(rows.map((r) => r?.nodeid)).toEqual([...ids, undefined]);
        const byId = await Promise.all(ids.map((id) => c.nodeById(id)));
        expect(byId.map((r) => `${r?.nodename}:${r?.nodeport}`)).toEqual(ws.map((w) => `${w.host}:${w.port}`));

        const [w1, w2, w3, w4] = ws as [CitusNode, CitusNode, CitusNode, CitusNode];
        const disabling = c.statements;
        await Promise.all([c.disableNode(w2.host, w2.port), c.disableNode(w3.host, w3.port)]);
        expect(c.statements - disabling).toBe(1);
        expect((await nodeRow(t().coordinator, w2))?.isactive).toBe(false);
        expect((await nodeRow(t().coordinator, w3))?.isactive).toBe(false);
        expect((await nodeRow(t().coordinator, w1))?.isactive).toBe(true);

        const activating = c.statements;
        await Promise.all([c.activateNode(w2.host, w2.port), c.activateNode(w3.host, w3.port)]);
        expect(c.statements - activating).toBe(1);
        expect((await nodeRow(t().coordinator, w2))?.isactive).toBe(true);
        expect((await nodeRow(t().coordinator, w3))?.isactive).toBe(true);

        const removing = c.statements;
        await Promise.all([c.removeNode(w3.host, w3.port), c.removeNode(w4.host, w4.port)]);
        expect(c.statements - removing).toBe(1);
        expect(await nodeRow(t().coordinator, w3)).toBeUndefined();
        expect(await nodeRow(t().coordinator, w4)).toBeUndefined();
      } finally {
        await c.close();
      }
    }, 120_000);

    it('a refused batch is sent call by call: the bad node gets its own error, the others are done', async () => {
      await resetMembership(t().coordinator);
      const c = coordinator();
      try {
        const [w1, w2] = workers() as [CitusNode, CitusNode];
        await Promise.all([c.addNode(w1.host, w1.port), c.addNode(w2.host, w2.port)]);
        const before = c.statements;
        const results = await Promise.allSettled([
          c.removeNode(w1.host, w1.port),
          c.removeNode('127.0.0.1', 1),
          c.removeNode(w2.host, w2.port),
        ]);
        expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
        const failure = (results[1] as PromiseRejectedResult).reason as CitusError;
        expect(failure.kind).toBe('not-found');
        expect(failure.message).toContain('citus_remove_node 127.0.0.1:1');
        expect(c.statements - before).toBe(4);
        expect(await nodeRow(t().coordinator, w1)).toBeUndefined();
        expect(await nodeRow(t().coordinator, w2)).toBeUndefined();
      } finally {
        await c.close();
      }
    }, 120_000);
  });
});
