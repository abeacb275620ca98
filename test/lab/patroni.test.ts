import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from 'pg';
import { startPatroniCluster, type PatroniCluster } from '../../src/lab/procs/patroni.js';
import { startWriteProbe, recoveryTime, lostWrites } from '../../src/lab/workload/write-probe.js';
import { withEtcd } from '../helpers/services.js';

describe('Patroni peer cluster (benchmark peer)', () => {
  const etcd = withEtcd();
  let cluster: PatroniCluster;
  beforeAll(async () => {
    cluster = await startPatroniCluster({
      etcdEndpoint: etcd().endpoint,
      members: 2,
      timing: { ttl: 5, loopWait: 1, retryTimeout: 2 },
      synchronous: true,
    });
  }, 180_000);
  afterAll(async () => cluster?.destroy());

  it('bootstraps a leader and a synchronous replica, then fails over after a crash losing no acknowledged write', async () => {
    const leaderName = await cluster.leader();
    const leader = cluster.members.find((m) => m.name === leaderName)!;
    expect(leader).toBeDefined();
    const probe = startWriteProbe(cluster.hosts, cluster.ports);
    await new Promise((r) => setTimeout(r, 1500));
    const killAt = Date.now();
    leader.crash();
    const deadline = Date.now() + 60_000;
    while (recoveryTime(probe.attempts, killAt, leader.pgPort) === null && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    await probe.stop();
    const rto = recoveryTime(probe.attempts, killAt, leader.pgPort);
    expect(rto).not.toBeNull();
    expect(await cluster.leader()).not.toBe(leaderName);
    const survivor = cluster.members.find((m) => m.name !== leaderName)!;
    const client = new Client({ host: '127.0.0.1', port: survivor.pgPort, user: 'postgres', database: 'postgres' });
    await client.connect();
    const rows = (await client.query<{ seq: string }>('SELECT seq FROM probe')).rows;
    await client.end();
    expect(probe.attempts.filter((a) => a.ok).length).toBeGreaterThan(10);
    expect(lostWrites(probe.attempts, new Set(rows.map((r) => Number(r.seq))))).toEqual([]);
  }, 120_000);
});
