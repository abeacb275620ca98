import { readFileSync } from 'node:fs';
import { Client } from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import type { HaproxyLayout } from '../../../src/agents/failover/haproxy-config.js';
import type { FailoverCluster } from '../../../src/lab/procs/failover-cluster.js';
import { startHaproxy, type HaproxyOptions, type HaproxyServer } from '../../../src/lab/procs/haproxy.js';
import { lostWrites, startWriteProbe, type Attempt, type WriteProbe } from '../../../src/lab/workload/write-probe.js';
import {
  acksAfter,
  failoverClusters,
  firstAck,
  invoke,
  newPrimary,
  survivingSeqs,
  until,
} from '../../helpers/failover.js';

const T = 240_000;
const PATRONI_EXAMPLE = '/usr/share/doc/patroni/examples/haproxy.cfg';

/**
 * Debian Patroni 3.0.2's example haproxy.cfg with only addresses and ports changed: its bind addresses
 * become loopback (the write port, and the read port for its stats page) and its two example servers
 * become one line per member, in the example's own form. It checks with a bare `option httpchk`
 * (`OPTIONS /`), `inter 3s fall 3 rise 2`.
 */
function patroniExample(layout: HaproxyLayout): string {
  const servers = layout.backends
    .map((b) => `    server postgresql_127.0.0.1_${b.port} 127.0.0.1:${b.port} maxconn 100 check port ${b.checkPort}`)
    .join('\n');
  const lines = readFileSync(PATRONI_EXAMPLE, 'utf8').split('\n');
  const firstServer = lines.findIndex((l) => l.trimStart().startsWith('server '));
  return lines
    .filter((l, i) => !l.trimStart().startsWith('server ') || i === firstServer)
    .map((l, i) => (i === firstServer ? servers : l))
    .join('\n')
    .replace('bind *:5000', `bind 127.0.0.1:${layout.writePort}`)
    .replace('bind *:7000', `bind 127.0.0.1:${layout.readPort}`);
}

/** The check timing each style runs with: the time from a member's `/primary` turning 200 to haproxy sending it writes. */
const styles: { name: string; options: HaproxyOptions; upWithinMs: number; readPort: boolean }[] = [
  // rise 1, inter 1 s: one check at most after it answers 200, plus 1.5 s for load and the probe's reconnect.
  {
    name: '`option httpchk GET /primary`, inter 1s fall 2 rise 1',
    options: { checkIntervalMs: 1000 },
    upWithinMs: 2500,
    readPort: true,
  },
  // rise 2, inter 3 s: two checks, plus the same allowance. Its second port is a stats page, not a read port.
  {
    name: "Patroni's example haproxy.cfg (OPTIONS /, inter 3s fall 3 rise 2)",
    options: { render: patroniExample },
    upWithinMs: 7500,
    readPort: false,
  },
];

async function inRecoveryThrough(port: number): Promise<boolean> {
  const client = new Client({
    host: '127.0.0.1',
    port,
    user: 'postgres',
    database: 'postgres',
    connectionTimeoutMillis: 2000,
  });
  await client.connect();
  try {
    return (await client.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r')).rows[0]!.r;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** When `next` first answered `/primary` 200 (polled every 10 ms), and the first write through the proxy it acknowledged. */
async function handover(
  cluster: FailoverCluster,
  probe: WriteProbe,
  old: string,
  faultAt: number,
): Promise<{ next: string; servedAt: number; ack: Attempt }> {
  const next = await newPrimary(cluster, old, 60_000);
  const servedAt = Date.now();
  const port = cluster.member(next).pgPort;
  const ack = await until(
    `a write through haproxy acknowledged by ${next}`,
    async () => firstAck(probe.attempts, port, faultAt),
    30_000,
  );
  return { next, servedAt, ack };
}

describe('haproxy 2.6 in front of the failover daemons routes writes by their health endpoints (real haproxy, PostgreSQL, etcd)', () => {
  const start = failoverClusters();
  const proxies: HaproxyServer[] = [];
  afterEach(async () => {
    await Promise.all(proxies.splice(0).map((p) => p.stop()));
  });

  it.each(styles)(
    'the write port follows a failover and a switchover, never to the old primary: $name',
    async ({ options, upWithinMs, readPort }) => {
      const cluster = await start({ synchronous: true });
      let primary = await cluster.waitHealthy();
      const proxy = await startHaproxy(
        cluster.members.map((m) => ({ name: m.name, port: m.pgPort, checkPort: m.apiPort })),
        options,
      );
      proxies.push(proxy);
      const probe = startWriteProbe('127.0.0.1', String(proxy.writePort));
      await until(
        'a write through haproxy to the primary',
        async () => firstAck(probe.attempts, cluster.member(primary).pgPort, 0),
        30_000,
      );

      // Failover: kill -9 of the primary's node.
      const old = cluster.member(primary);
      old.killNode();
      // After the call: it reads /proc for the postmaster's backends before it signals them all.
      const killAt = Date.now();
      const failover = await handover(cluster, probe, old.name, killAt);
      expect(failover.ack.end - failover.servedAt).toBeLessThan(upWithinMs);
      await old.startDaemon();
      primary = await cluster.waitHealthy();
      expect(primary).toBe(failover.next);
      const switchAt = Date.now();
      // A write sent after the kill was acknowledged by some other server: one in flight at the kill may have been
      // committed and answered just before it, and the probe's callback only ran once the kill had returned.
      expect(probe.attempts.filter((a) => a.ok && a.port === old.pgPort && a.start > killAt)).toEqual([]);

      // Switchover to a replica, with writes running through haproxy; the watch starts before the request.
      const candidate = cluster.members.find((m) => m.name !== primary)!.name;
      const watching = handover(cluster, probe, primary, switchAt);
      const done = await invoke(cluster, primary, 'switchover', { candidate });
      expect(done.status).toBe(200);
      const switched = await watching;
      expect(switched.next).toBe(candidate);
      expect(switched.ack.end - switched.servedAt).toBeLessThan(upWithinMs);
      // Once the new primary took a write, the old one acknowledged none.
      expect(acksAfter(probe.attempts, cluster.member(primary).pgPort, switched.ack.start)).toEqual([]);
      await cluster.waitHealthy();
      await until(
        'the write port to have sent 20 writes to the new primary',
        async () => probe.attempts.filter((a) => a.ok && a.port === cluster.member(candidate).pgPort).length >= 20,
        20_000,
      );
      await probe.stop();

      if (readPort) expect(await inRecoveryThrough(proxy.readPort)).toBe(true);
      // The lost-write check covers writes each of the three primaries acknowledged through the port.
      const servedBy = [old.name, failover.next, candidate].map(
        (name) => probe.attempts.filter((a) => a.ok && a.port === cluster.member(name).pgPort).length,
      );
      for (const acks of servedBy) expect(acks).toBeGreaterThan(0);
      expect(lostWrites(probe.attempts, await survivingSeqs(cluster, candidate))).toEqual([]);
    },
    T,
  );
});
