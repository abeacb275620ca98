import { Client } from 'pg';
import { describe, expect, it } from 'vitest';
import type { WriteCopies } from '../../../src/agents/failover/types.js';
import type { FailoverCluster } from '../../../src/lab/procs/failover-cluster.js';
import { failoverClusters, state, until } from '../../helpers/failover.js';

const T = 180_000;
/** How long a commit must stay unacknowledged with no standby left (strict mode makes it wait for good). */
const waitsAtLeastMs = 3000;

async function connect(cluster: FailoverCluster, name: string): Promise<Client> {
  const client = new Client({ connectionString: cluster.member(name).pgUrl(), connectionTimeoutMillis: 2000 });
  await client.connect();
  return client;
}

async function writesOf(cluster: FailoverCluster, name: string): Promise<WriteCopies | undefined> {
  return ((await state(cluster, name)).state as { writes?: WriteCopies }).writes;
}

describe('strict synchronous mode (real PostgreSQL and etcd, 3 nodes on loopback)', () => {
  const start = failoverClusters();

  it(
    'with both standbys dead a commit waits (not acknowledged by the primary alone) and returns once a standby is back, which holds it',
    async () => {
      const cluster = await start({ synchronous: true, synchronousStrict: true });
      const primary = await cluster.waitHealthy();
      const [a, b] = cluster.members.filter((m) => m.name !== primary);
      await until(
        'a synchronous standby',
        async () => ((await writesOf(cluster, primary))?.synchronous ?? 0) > 0,
        30_000,
        100,
      );
      const writer = await connect(cluster, primary);
      try {
        await writer.query('CREATE TABLE strict_probe (n int)');
        a!.killNode();
        b!.killNode();
        const waiting = await until(
          `${primary} publishing that writes wait`,
          async () => {
            const w = await writesOf(cluster, primary);
            return w?.warning?.includes('wait') === true ? w : null;
          },
          30_000,
          100,
        );
        expect(waiting).toMatchObject({ mode: 'strict', synchronous: 0, streaming: 0 });
        const commit = writer.query('INSERT INTO strict_probe VALUES (1)').then(() => Date.now());
        const early = await Promise.race([
          commit.then(() => 'acknowledged'),
          new Promise<string>((r) => setTimeout(() => r('waiting'), waitsAtLeastMs)),
        ]);
        expect(early).toBe('waiting');
        const backAt = Date.now();
        await a!.startDaemon();
        const acknowledgedAt = await commit;
        expect(acknowledgedAt).toBeGreaterThan(backAt);
        const standby = await connect(cluster, a!.name);
        try {
          const rows = await until(
            `the row on ${a!.name}`,
            async () => {
              const res = await standby.query<{ n: number }>('SELECT n FROM strict_probe');
              return res.rows.length > 0 ? res.rows : null;
            },
            10_000,
          );
          expect(rows).toEqual([{ n: 1 }]);
        } finally {
          await standby.end();
        }
      } finally {
        await writer.end().catch(() => undefined);
      }
    },
    T,
  );
});
