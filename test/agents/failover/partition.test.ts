import { Client } from 'pg';
import { describe, expect, it } from 'vitest';
import { startEtcd } from '../../../src/lab/procs/etcd.js';
import { startFailoverCluster, type FailoverCluster } from '../../../src/lab/procs/failover-cluster.js';
import { lostWrites, startWriteProbe, type WriteProbe } from '../../../src/lab/workload/write-probe.js';
import { newPrimary, state, until } from '../../helpers/failover.js';
import { createBridge, netnsUnavailable } from '../../../src/lab/procs/netns.js';
import { startWritableSampler, type WritableSampler } from '../../helpers/writable-sampler.js';

const T = 240_000;
const unavailable = netnsUnavailable();

async function rowsOn(cluster: FailoverCluster, member: string): Promise<Set<number>> {
  const client = new Client({ connectionString: cluster.member(member).pgUrl(), connectionTimeoutMillis: 2000 });
  await client.connect();
  try {
    const res = await client.query<{ seq: string }>('SELECT seq FROM probe');
    return new Set(res.rows.map((r) => Number(r.seq)));
  } finally {
    await client.end().catch(() => undefined);
  }
}

describe('failover agent under a network partition (each node in its own network namespace on a test bridge)', () => {
  it.skipIf(unavailable !== null)(
    `the primary cut off from etcd and its peers fences itself before a replica is promoted, and rejoins on heal${unavailable === null ? '' : ` (skipped: ${unavailable})`}`,
    async () => {
      const bridge = createBridge(3);
      const probes: WriteProbe[] = [];
      const samplers: WritableSampler[] = [];
      const etcd = await startEtcd({ clientHost: bridge.hostAddress }).catch((error: unknown) => {
        bridge.remove();
        throw error;
      });
      let cluster: FailoverCluster | undefined;
      try {
        cluster = await startFailoverCluster({
          etcd,
          synchronous: true,
          pgParameters: { hba_file: `'${bridge.hbaFile}'` },
          placement: (i) => ({ host: bridge.nodes[i]!.address, wrap: bridge.nodes[i]!.wrap }),
        });
        const c = cluster;
        const primary = await c.waitHealthy();
        await until(
          'two synchronous standbys',
          async () =>
            ((await state(c, primary)).state as { members: { sync: boolean }[] }).members.filter((m) => m.sync)
              .length >= 2,
          30_000,
          100,
        );
        // From inside each node's namespace: one write probe on that server alone (disjoint sequence
        // ranges) and a sampler of whether it is writable, every 50 ms; both still see a cut-off node.
        c.members.forEach((m, i) => {
          const wrap = bridge.nodes[i]!.wrap;
          probes.push(startWriteProbe(m.host, String(m.pgPort), 50, { firstSeq: i * 1_000_000, wrap }));
          samplers.push(startWritableSampler(m.host, m.pgPort, wrap));
        });
        const oldIndex = c.members.findIndex((m) => m.name === primary);
        await until(
          'writes acknowledged by the primary',
          async () => probes[oldIndex]!.attempts.some((a) => a.ok),
          20_000,
        );

        const cutAt = Date.now();
        bridge.nodes[oldIndex]!.cut();
        const next = await newPrimary(c, primary, 30_000);
        const newIndex = c.members.findIndex((m) => m.name === next);
        const firstNewAck = await until(
          `a write acknowledged by ${next}`,
          async () => probes[newIndex]!.attempts.find((a) => a.ok && a.start >= cutAt),
          30_000,
        );
        const fencedAt = await until(
          `${primary} no longer writable, seen from inside its namespace`,
          async () => samplers[oldIndex]!.samples.find((s) => s.t > cutAt && s.writable !== true)?.t,
          30_000,
        );
        // No split brain: the old primary was last seen writable before the new one took its first write.
        const lastOldWritable = samplers[oldIndex]!.samples.filter((s) => s.writable === true).at(-1)!.t;
        expect(lastOldWritable).toBeLessThan(firstNewAck.start);
        expect(fencedAt).toBeLessThan(firstNewAck.start);
        expect(probes[oldIndex]!.attempts.filter((a) => a.ok && a.end > firstNewAck.start)).toEqual([]);

        bridge.nodes[oldIndex]!.heal();
        await until(
          `${primary} streaming from ${next} again`,
          async () =>
            (await fetch(`${c.member(primary).apiUrl}/replica`, { signal: AbortSignal.timeout(1000) })).status === 200,
          90_000,
          200,
        );
        expect(await c.waitHealthy(60_000)).toBe(next);
        await Promise.all([...probes, ...samplers].map((p) => p.stop()));
        // Synchronous mode: every write any server acknowledged is on the new primary.
        const acked = probes.flatMap((p) => p.attempts);
        expect(acked.filter((a) => a.ok).length).toBeGreaterThan(40);
        expect(lostWrites(acked, await rowsOn(c, next))).toEqual([]);
      } finally {
        await Promise.all([...probes, ...samplers].map((p) => p.stop()));
        await cluster?.stop();
        await etcd.stop();
        bridge.remove();
      }
    },
    T,
  );
});
