import { afterEach, describe, expect, it } from 'vitest';
import { EtcdSession } from '../../../src/agents/adapters/etcd.js';
import { withEtcd } from '../../helpers/services.js';

/** Blocks this process the way a SIGSTOP or a stalled VM does: no timer, no socket is served meanwhile. */
function stall(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until);
}

const timeoutMs = 500;

describe('etcd session across a stall of this process (real etcd)', () => {
  const etcd = withEtcd();
  const sessions: EtcdSession[] = [];
  afterEach(async () => {
    await Promise.all(sessions.splice(0).map((s) => s.close()));
  });
  const open = async (): Promise<EtcdSession> => {
    const session = new EtcdSession({
      endpoints: [etcd().endpoint],
      prefix: `/stall-${sessions.length}-${Date.now()}/`,
      ttlSeconds: 2,
      callTimeoutMs: timeoutMs,
      onChange: () => undefined,
    });
    sessions.push(session);
    const deadline = Date.now() + 10_000;
    while ((await session.readAll()) === null) expect(Date.now()).toBeLessThan(deadline);
    return session;
  };

  it('a read in flight when the process stalls past its deadline is asked again, not reported as an outage', async () => {
    const session = await open();
    for (let i = 0; i < 3; i++) {
      const read = session.readAll();
      await new Promise((r) => setImmediate(r));
      stall(3 * timeoutMs);
      expect(await read).not.toBeNull();
      expect(session.snapshot().reachable).toBe(true);
    }
  });

  it('a stopped etcd is still reported unreachable within the deadline and its retry', async () => {
    const session = await open();
    etcd().kill('SIGSTOP');
    try {
      const started = Date.now();
      expect(await session.readAll()).toBeNull();
      expect(Date.now() - started).toBeLessThan(3 * timeoutMs + 1000);
      expect(session.snapshot().reachable).toBe(false);
    } finally {
      etcd().kill('SIGCONT');
    }
  });
});
