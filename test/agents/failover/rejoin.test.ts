import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { describe, expect, it } from 'vitest';
import type { FailoverCluster } from '../../../src/lab/procs/failover-cluster.js';
import { failoverClusters, newPrimary, until } from '../../helpers/failover.js';

const T = 180_000;
/** A WAL segment's file name in pg_wal: timeline, log and segment, 8 hex digits each. */
const walSegment = /^[0-9A-F]{24}$/;

async function sql(cluster: FailoverCluster, name: string, text: string): Promise<Record<string, unknown>[]> {
  const client = new Client({ connectionString: cluster.member(name).pgUrl(), connectionTimeoutMillis: 1000 });
  await client.connect();
  try {
    return (await client.query(text)).rows as Record<string, unknown>[];
  } finally {
    await client.end().catch(() => undefined);
  }
}

describe('a former primary whose pg_rewind fails (real PostgreSQL and etcd, 3 nodes on loopback)', () => {
  const start = failoverClusters();

  it(
    'is re-seeded from the new primary with pg_basebackup: its WAL removed after a kill -9, it rejoins as a streaming replica holding the new rows',
    async () => {
      const cluster = await start({ synchronous: true });
      const primary = await cluster.waitHealthy();
      await sql(cluster, primary, `CREATE TABLE rejoin_probe (at text); INSERT INTO rejoin_probe VALUES ('before')`);
      const old = cluster.member(primary);
      old.killNode();
      const next = await newPrimary(cluster, primary, 30_000);
      await until(
        `a write on ${next}`,
        async () => sql(cluster, next, `INSERT INTO rejoin_probe VALUES ('after')`),
        10_000,
      );
      // The fault itself: the crashed server's WAL is gone, so pg_rewind cannot finish its crash recovery.
      const walDir = join(old.dataDir, 'pg_wal');
      const removed = readdirSync(walDir).filter((f) => walSegment.test(f));
      for (const f of removed) rmSync(join(walDir, f));
      expect(removed.length).toBeGreaterThan(0);
      const logFrom = readFileSync(old.logFile).length;
      await old.startDaemon();
      await until(
        `${primary} streaming again`,
        async () => (await fetch(`${old.apiUrl}/replica`, { signal: AbortSignal.timeout(1000) })).status === 200,
        90_000,
        200,
      );
      const log = readFileSync(old.logFile).subarray(logFrom).toString('utf8');
      expect(log).toMatch(new RegExp(`pg_rewind failed, re-cloning from ${next}`));
      const rows = await until(
        `the row written on ${next} on ${primary}`,
        async () => {
          const r = await sql(cluster, primary, 'SELECT at FROM rejoin_probe ORDER BY at');
          return r.length === 2 ? r : null;
        },
        10_000,
        100,
      );
      expect(rows).toEqual([{ at: 'after' }, { at: 'before' }]);
      expect(await cluster.waitHealthy()).toBe(next);
    },
    T,
  );
});
