import { connect } from 'node:net';
import { Client } from 'pg';
import { describe, expect, it } from 'vitest';
import type { FailoverCluster } from '../../../src/lab/procs/failover-cluster.js';
import { failoverClusters, state, until } from '../../helpers/failover.js';

async function sql(url: string, text: string): Promise<void> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end().catch(() => undefined);
  }
}

const T = 180_000;

/** The status code of one raw request, sent byte for byte as a load balancer's check would send it. */
function rawStatus(port: number, request: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    let text = '';
    socket.setEncoding('utf8');
    socket.setTimeout(3000, () => socket.destroy(new Error(`no answer to ${JSON.stringify(request)}`)));
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1];
      if (status === undefined) reject(new Error(`no status line in ${JSON.stringify(text.slice(0, 80))}`));
      else resolve(Number(status));
    });
  });
}

const primaryPaths = ['/', '/primary', '/master', '/leader', '/read-write'];
const replicaPaths = ['/replica', '/standby'];

/** Waits until every replica reports itself a synchronous standby (synchronous mode lists every streaming one). */
async function everyReplicaSync(cluster: FailoverCluster, primary: string): Promise<void> {
  await until(
    'every replica a synchronous standby in its own report',
    async () => {
      const views = await Promise.all(
        cluster.members.map(
          async (m) => (await state(cluster, m.name)).state as { members: { name: string; sync: boolean }[] },
        ),
      );
      return views.every(
        (v, i) =>
          cluster.members[i]!.name === primary || v.members.some((m) => m.name === cluster.members[i]!.name && m.sync),
      );
    },
    30_000,
    100,
  );
}

describe('failover health endpoints as load balancers use them (real PostgreSQL and etcd)', () => {
  const start = failoverClusters();

  it(
    "GET, HEAD and OPTIONS alike on Patroni's role endpoints and aliases, HTTP/1.1 without a Host header",
    async () => {
      const cluster = await start({ synchronous: true });
      const primary = await cluster.waitHealthy();
      await everyReplicaSync(cluster, primary);
      const answers: Record<string, Record<string, number>> = {};
      for (const m of cluster.members) {
        const row: Record<string, number> = {};
        for (const method of ['GET', 'HEAD', 'OPTIONS'])
          for (const path of [...primaryPaths, ...replicaPaths, '/read-only', '/sync', '/async', '/liveness'])
            row[`${method} ${path}`] = await rawStatus(m.apiPort, `${method} ${path} HTTP/1.0\r\n\r\n`);
        row['GET /primary HTTP/1.1, no Host'] = await rawStatus(
          m.apiPort,
          'GET /primary HTTP/1.1\r\nConnection: close\r\n\r\n',
        );
        row['OPTIONS / HTTP/1.1, no Host'] = await rawStatus(
          m.apiPort,
          'OPTIONS / HTTP/1.1\r\nConnection: close\r\n\r\n',
        );
        answers[m.name] = row;
      }
      const expected = (name: string): Record<string, number> => {
        const isPrimary = name === primary;
        const row: Record<string, number> = {};
        for (const method of ['GET', 'HEAD', 'OPTIONS']) {
          for (const path of primaryPaths) row[`${method} ${path}`] = isPrimary ? 200 : 503;
          for (const path of replicaPaths) row[`${method} ${path}`] = isPrimary ? 503 : 200;
          row[`${method} /read-only`] = 200;
          row[`${method} /sync`] = isPrimary ? 503 : 200;
          row[`${method} /async`] = 503;
          row[`${method} /liveness`] = 200;
        }
        row['GET /primary HTTP/1.1, no Host'] = isPrimary ? 200 : 503;
        row['OPTIONS / HTTP/1.1, no Host'] = isPrimary ? 200 : 503;
        return row;
      };
      expect(answers).toEqual(Object.fromEntries(cluster.members.map((m) => [m.name, expected(m.name)])));
    },
    T,
  );

  it(
    '/replica?lag= measures against where the primary is now: a replica 5 MB behind is refused right after the burst',
    async () => {
      const cluster = await start({ ttlSeconds: 6, loopIntervalMs: 3000 });
      const primary = await cluster.waitHealthy();
      const replica = cluster.members.find((m) => m.name !== primary)!;
      const primaryUrl = cluster.member(primary).pgUrl();
      await sql(primaryUrl, 'CREATE TABLE burst (pad text)');
      await until(
        `${replica.name} within 1 MiB`,
        async () => (await rawStatus(replica.apiPort, 'GET /replica?lag=1048576 HTTP/1.0\r\n\r\n')) === 200,
        20_000,
      );
      await sql(replica.pgUrl(), 'SELECT pg_wal_replay_pause()');
      const answers: number[] = [];
      for (let round = 0; round < 3; round++) {
        await sql(primaryUrl, `INSERT INTO burst SELECT repeat('x', 1000) FROM generate_series(1, 5000)`);
        answers.push(await rawStatus(replica.apiPort, 'GET /replica?lag=1048576 HTTP/1.0\r\n\r\n'));
      }
      await sql(replica.pgUrl(), 'SELECT pg_wal_replay_resume()');
      expect(answers).toEqual([503, 503, 503]);
      const caughtUp = await until(
        `${replica.name} within 1 MiB again once it replays`,
        async () => (await rawStatus(replica.apiPort, 'GET /replica?lag=1048576 HTTP/1.0\r\n\r\n')) === 200,
        20_000,
      );
      expect(caughtUp).toBe(true);
    },
    T,
  );
});
