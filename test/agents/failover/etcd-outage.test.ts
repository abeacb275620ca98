import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fenceAfterMs } from '../../../src/agents/failover/failover-policy.js';
import type { FailoverCluster } from '../../../src/lab/procs/failover-cluster.js';
import { dynamicConfig } from '../../fixtures/failover-observed.js';
import { failoverClusters, state, until } from '../../helpers/failover.js';

const T = 120_000;
const msPerSecond = 1000;
/** etcd3 renews a lease every third of its TTL: the last renewal before a stop is at most this old. */
const keepAliveShare = 1 / 3;

interface Sample {
  readonly at: number;
  readonly status: number;
}

/** One GET of `/primary` on `member`: its status, or 0 when the daemon does not answer. */
async function askPrimary(cluster: FailoverCluster, member: string): Promise<Sample> {
  const res = await fetch(`${cluster.member(member).apiUrl}/primary`, { signal: AbortSignal.timeout(1000) }).catch(
    () => null,
  );
  await res?.body?.cancel();
  return { at: Date.now(), status: res?.status ?? 0 };
}

/** Polls `/primary` on `member` every 50 ms until `done(samples)` holds or `forMs` has passed. */
async function pollPrimary(
  cluster: FailoverCluster,
  member: string,
  forMs: number,
  done: (samples: readonly Sample[]) => boolean = () => false,
): Promise<Sample[]> {
  const samples: Sample[] = [];
  const end = Date.now() + forMs;
  while (Date.now() < end && !done(samples)) {
    samples.push(await askPrimary(cluster, member));
    await new Promise((r) => setTimeout(r, 50));
  }
  return samples;
}

const logOf = (cluster: FailoverCluster, name: string): string => readFileSync(cluster.member(name).logFile, 'utf8');

describe('failover agent while etcd is away (real PostgreSQL and etcd, 3 nodes on loopback)', () => {
  const start = failoverClusters();

  it(
    '/primary stays 200 on the primary while every peer confirms etcd is down (failsafe): no write port outage',
    async () => {
      const cluster = await start({ ttlSeconds: 2 });
      const primary = await cluster.waitHealthy();
      const fenceAfter = fenceAfterMs(dynamicConfig({ ttlSeconds: 2 }));
      cluster.etcd.kill('SIGKILL');
      const samples = await pollPrimary(cluster, primary, fenceAfter + 3000);

      expect(samples.length).toBeGreaterThan(20);
      expect(samples.filter((s) => s.status !== 200)).toEqual([]);
      const seen = (await state(cluster, primary)).state as { etcdReachable: boolean; lastProblem: string };
      expect(seen.etcdReachable).toBe(false);
      expect(seen.lastProblem).toMatch(/failsafe/);
      expect(cluster.member(primary).postgresPid()).not.toBeNull();
    },
    T,
  );

  it(
    "/replica?lag= answers from the replica's own server while etcd is down: 200 while it streams, 503 once its primary is gone",
    async () => {
      const cluster = await start({ ttlSeconds: 2 });
      const primary = await cluster.waitHealthy();
      const replica = cluster.members.find((m) => m.name !== primary)!;
      const ask = async (): Promise<{ status: number; lagBytes: number | null; state: string }> => {
        const res = await fetch(`${replica.apiUrl}/replica?lag=1048576`, { signal: AbortSignal.timeout(1000) });
        const body = (await res.json()) as { lagBytes: number | null; state: string };
        return { status: res.status, lagBytes: body.lagBytes, state: body.state };
      };
      expect((await ask()).status).toBe(200);
      cluster.etcd.kill('SIGKILL');
      await until(
        `${replica.name} publishing that etcd is unreachable`,
        async () => ((await state(cluster, replica.name)).state as { etcdReachable: boolean }).etcdReachable === false,
        15_000,
        100,
      );
      // a loaded machine may catch the WAL receiver between two messages: it must stream again within 5 s
      let last = await ask();
      const during = await until(
        `${replica.name}'s /replica 200 from its own streaming server`,
        async () => {
          last = await ask();
          return last.status === 200 ? last : null;
        },
        5000,
        100,
      ).catch(() => last);
      expect(during, JSON.stringify(during)).toMatchObject({ status: 200, state: 'streaming' });
      expect(during.lagBytes).toBeGreaterThanOrEqual(0);
      expect(during.lagBytes).toBeLessThanOrEqual(1048576);
      cluster.member(primary).killNode();
      const after = await until(
        `${replica.name}'s /replica 503 with its primary gone`,
        async () => {
          const a = await ask();
          return a.status === 503 ? a : null;
        },
        15_000,
        100,
      );
      expect(after.status).toBe(503);
    },
    T,
  );

  it(
    '/primary is 200 until the fence point, then 503 once the primary fences itself (etcd and the peer daemons gone)',
    async () => {
      const ttlSeconds = 6;
      const cluster = await start({ ttlSeconds });
      const primary = await cluster.waitHealthy();
      const fenceAfter = fenceAfterMs(dynamicConfig({ ttlSeconds }));
      const keepAliveMs = ttlSeconds * msPerSecond * keepAliveShare;
      for (const m of cluster.members) if (m.name !== primary) m.killDaemon();
      cluster.etcd.kill('SIGKILL');
      const stoppedAt = Date.now();
      const samples = await pollPrimary(cluster, primary, fenceAfter + 10_000, (s) => s.some((x) => x.status === 503));

      const firstDown = samples.findIndex((s) => s.status !== 200);
      expect(firstDown).toBeGreaterThan(0);
      expect(samples[firstDown]!.status).toBe(503);
      const downAfterMs = samples[firstDown]!.at - stoppedAt;
      // Its last renewal was at most one keep-alive before the stop; the fence comes fenceAfter after it.
      expect(downAfterMs).toBeGreaterThanOrEqual(fenceAfter - keepAliveMs);
      expect(downAfterMs).toBeLessThan(fenceAfter + 5000);
      await until(
        `${primary}'s postgres stopped by the fence`,
        async () => cluster.member(primary).postgresPid() === null,
        10_000,
      );
      expect(logOf(cluster, primary)).toMatch(/fencing: no lease renewal for \d+ ms/);
    },
    T,
  );
});
