import { describe, expect, it } from 'vitest';
import { attachAgent } from '../../../src/agents/wire/attach.js';
import { failoverClusters, until } from '../../helpers/failover.js';

const cluster = failoverClusters();

describe('GET /logs on a failover daemon', () => {
  it('tails its own journal and its PostgreSQL server log, the same over the attach handle', async () => {
    const c = await cluster({ members: 1, cluster: 'logs' });
    const primary = await c.waitHealthy();
    const member = c.member(primary);
    const handle = attachAgent(member.apiUrl, { token: c.token });
    try {
      const postgres = await until(
        'the server log saying it accepts connections',
        async () => {
          const tail = await handle.logs('postgres', 50);
          return tail.lines.some((l) => l.includes('ready to accept connections')) ? tail : null;
        },
        30_000,
        200,
      );
      expect(postgres.sources).toEqual(['daemon', 'postgres']);
      expect(postgres.lines.length).toBeLessThanOrEqual(50);
      const daemon = await handle.logs('daemon', 20);
      expect(daemon.lines.length).toBeGreaterThan(0);
      expect(daemon.lines.length).toBeLessThanOrEqual(20);
      expect(daemon.lines.every((l) => /^\d{4}-\d\d-\d\dT\S+Z (DEBUG|INFO|WARN|ERROR) \S+: /.test(l))).toBe(true);
      const res = await fetch(`${member.apiUrl}/logs?source=postgres&lines=5`);
      expect(res.status).toBe(401);
    } finally {
      await handle.close();
    }
  }, 180_000);
});
