import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { lostWrites } from '../../../bench/lib/write-probe.js';
import type { FailoverCluster } from '../../../src/lab/procs/failover-cluster.js';
import { delay } from '../../helpers/wait-for.js';
import { failoverClusters, history, probeOf, state, survivingSeqs, until } from '../../helpers/failover.js';

const T = 180_000;

/** Waits until the primary sees a synchronous standby. */
async function syncStandby(cluster: FailoverCluster, primary: string): Promise<void> {
  await until(
    'a synchronous standby',
    async () => ((await state(cluster, primary)).state as { members: { sync: boolean }[] }).members.some((m) => m.sync),
    15_000,
    100,
  );
}

const logOf = (cluster: FailoverCluster, name: string): string => readFileSync(cluster.member(name).logFile, 'utf8');

describe('failover agent under faults (real PostgreSQL and etcd, 3 nodes on loopback)', () => {
  const start = failoverClusters();

  it(
    "a frozen daemon beside a healthy postgres causes no failover: SIGSTOP of the primary's daemon past its lease",
    async () => {
      const cluster = await start({ synchronous: true });
      const primary = await cluster.waitHealthy();
      await syncStandby(cluster, primary);
      const pgPid = cluster.member(primary).postgresPid();
      const probe = probeOf(cluster);
      await delay(500);
      cluster.member(primary).killDaemon('SIGSTOP');
      // The fault itself: the daemon stays frozen twice its 2 s lease.
      await delay(4000);
      cluster.member(primary).killDaemon('SIGCONT');
      await until(
        `${primary}'s freeze guard to run`,
        async () => logOf(cluster, primary).includes('was frozen for'),
        10_000,
      );
      expect(await cluster.waitHealthy()).toBe(primary);
      expect(cluster.member(primary).postgresPid()).toBe(pgPid);
      expect(logOf(cluster, primary)).toContain('postgres keeps running');
      await probe.stop();
      expect((await history(cluster)).filter((h) => h.kind === 'failover')).toEqual([]);
      expect(probe.attempts.filter((a) => a.ok).length).toBeGreaterThan(50);
      expect(lostWrites(probe.attempts, await survivingSeqs(cluster, primary))).toEqual([]);
    },
    T,
  );
});
