import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { WatchContext } from '../../../src/agents/kernel/context.js';
import type { FailoverDeps, FailoverMemory } from '../../../src/agents/failover/deps.js';
import { guardLease } from '../../../src/agents/failover/lease-guard.js';

interface World {
  t: number;
  renewedAt: number | null;
  pid: number | null;
  stoppedAt: number | null;
  /** Added to the next sleep only: a freeze of the process. */
  jump: number;
  etcdReachable: (boolean | null)[];
  /** Where the peers' daemons answer `/member` now ('' : nowhere). */
  apiUrl: string;
}

/**
 * Runs the guard in virtual time (each of its sleeps advances the clock) until `until` ms, calling
 * `at(t)` on every tick so a test can change the world.
 */
async function run(world: World, until: number, at: (w: World) => void = () => undefined): Promise<void> {
  const abort = new AbortController();
  const tasks: Promise<void>[] = [];
  const peers = new Map(
    world.etcdReachable.map((r, i) => [
      `pg${i + 1}`,
      { endpoint: { name: `pg${i + 1}` }, apiUrl: world.apiUrl, view: { apiEtcdReachable: r } },
    ]),
  );
  const deps = {
    config: { node: 'pg0' },
    session: { ttl: 2, snapshot: () => ({ renewedAt: world.renewedAt }) },
    peers,
    pg: {
      local: () => ({ pid: world.pid }),
      stop: async () => {
        world.stoppedAt = world.t;
        world.pid = null;
      },
    },
  } as unknown as FailoverDeps;
  const ctx = {
    signal: abort.signal,
    memory: { lastReport: { role: 'primary', state: 'running' } },
    log: { warn: () => undefined, info: () => undefined },
    wake: () => undefined,
    clock: {
      now: () => world.t,
      sleep: (ms: number) =>
        new Promise<void>((resolve) => {
          world.t += ms + world.jump;
          world.jump = 0;
          at(world);
          if (world.t >= until) abort.abort();
          setImmediate(resolve);
        }),
    },
    spawn: (_name: string, task: (signal: AbortSignal) => Promise<void>) => tasks.push(task(abort.signal)),
  } as unknown as WatchContext<FailoverMemory>;
  guardLease(deps, ctx);
  await Promise.all(tasks);
}

const world = (over: Partial<World> = {}): World => ({
  t: 0,
  renewedAt: 0,
  pid: 123,
  stoppedAt: null,
  jump: 0,
  etcdReachable: [null, null],
  apiUrl: '',
  ...over,
});

describe('the lease guard', () => {
  it('stops a writable primary whose 2 s lease went unrenewed for 1.85 s, before it can lapse', async () => {
    const w = world();
    await run(w, 5000);
    expect(w.stoppedAt).not.toBeNull();
    expect(w.stoppedAt!).toBeGreaterThanOrEqual(1850);
    expect(w.stoppedAt!).toBeLessThan(2000);
  });

  it('keeps it serving while the lease is renewed, and while every peer says etcd is down too (failsafe)', async () => {
    const renewing = world();
    await run(renewing, 5000, (w) => {
      if (w.t % 600 === 0) w.renewedAt = w.t;
    });
    expect(renewing.stoppedAt).toBeNull();
    const failsafe = world({ etcdReachable: [false, false] });
    await run(failsafe, 5000);
    expect(failsafe.stoppedAt).toBeNull();
    const one = world({ etcdReachable: [false, null] });
    await run(one, 5000);
    expect(one.stoppedAt).not.toBeNull();
  });

  it('leaves silence that began before a freeze of its own process to the freeze guard, and guards the next lease', async () => {
    const w = world({ jump: 8000 });
    await run(w, 12_000, (x) => {
      if (x.t === 10_050) x.renewedAt = x.t;
    });
    expect(w.stoppedAt).toBe(10_050 + 1850);
  });

  it('asks the peers at its deadline: peers that say now that etcd is down too keep the primary serving', async () => {
    let reachable = false;
    const server = createServer((_req, res) => res.end(JSON.stringify({ etcdReachable: reachable })));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const apiUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      // Their last answers (from before they noticed the outage) are no proof either way.
      const down = world({ apiUrl, etcdReachable: [true, null] });
      await run(down, 3000);
      expect(down.stoppedAt).toBeNull();
      reachable = true;
      const up = world({ apiUrl, etcdReachable: [true, null] });
      await run(up, 3000);
      expect(up.stoppedAt).not.toBeNull();
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
