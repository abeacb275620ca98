import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PatroniRest } from '../../../src/agents/adapters/patroni-rest.js';
import { startPatroniCluster, type PatroniCluster } from '../../../src/lab/procs/patroni.js';
import { eventually } from '../../helpers/kube.js';
import { withEtcd } from '../../helpers/services.js';

describe("Patroni's REST API (Debian's patroni on loopback)", () => {
  const etcd = withEtcd();
  let cluster: PatroniCluster;
  beforeAll(async () => {
    cluster = await startPatroniCluster({
      etcdEndpoint: etcd().endpoint,
      members: 2,
      timing: { ttl: 10, loopWait: 1, retryTimeout: 4 },
    });
  }, 180_000);
  afterAll(async () => cluster?.destroy());

  const rest = (i: number): PatroniRest => new PatroniRest(`http://127.0.0.1:${cluster.members[i]!.apiPort}`);
  const leaderOf = async (): Promise<string | undefined> =>
    (await rest(0).cluster()).members.find((m) => m.role === 'leader')?.name;
  const streaming = async (name: string): Promise<boolean> =>
    (await rest(0).cluster()).members.some(
      (m) => m.name === name && (m.state === 'streaming' || m.state === 'running'),
    );

  it('lists the members with roles and lag, switches over, fails over, and says why it refuses', async () => {
    const first = await eventually(
      'a leader and a streaming replica',
      async () => {
        const leader = await leaderOf();
        const other = cluster.members.map((m) => m.name).find((n) => n !== leader);
        return leader !== undefined && other !== undefined && (await streaming(other)) ? [leader, other] : undefined;
      },
      60_000,
    );
    const [leader, replica] = first as [string, string];
    const info = await rest(1).cluster();
    expect(info.members.map((m) => m.name).sort()).toEqual(cluster.members.map((m) => m.name).sort());
    expect(info.members.find((m) => m.name === replica)?.lagBytes).toBeGreaterThanOrEqual(0);

    const refused = await rest(0)
      .switchover('nobody', replica)
      .then(
        () => null,
        (error: unknown) => error,
      );
    expect(refused).toMatchObject({ kind: 'precondition' });
    expect(String((refused as Error).message)).toMatch(/Patroni refused POST \/switchover \(4\d\d\)/);

    await rest(0).switchover(leader, replica);
    await eventually(`${replica} leads after the switchover`, async () => (await leaderOf()) === replica, 60_000);
    await eventually(`${leader} streams again`, () => streaming(leader), 60_000);

    await rest(1).failover(leader);
    await eventually(`${leader} leads after the failover`, async () => (await leaderOf()) === leader, 60_000);
  }, 240_000);

  it('an unreachable member is unavailable, not a crash', async () => {
    const error = await new PatroniRest('http://127.0.0.1:1', 1000).cluster().then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ kind: 'unavailable' });
  });
});
