import { describe, expect, it } from 'vitest';
import { failoverConfigSchema } from '../../../src/agents/failover/config.js';
import { serverOnStop } from '../../../src/agents/failover/failover-policy.js';
import type { OnStop } from '../../../src/agents/failover/types.js';

describe('what a stopping failover daemon does to its postgres', () => {
  const table: { onStop: OnStop; paused: boolean | null; server: OnStop }[] = [
    { onStop: 'stop', paused: false, server: 'stop' },
    { onStop: 'stop', paused: true, server: 'leave' },
    { onStop: 'stop', paused: null, server: 'stop' },
    { onStop: 'leave', paused: false, server: 'leave' },
    { onStop: 'leave', paused: true, server: 'leave' },
    { onStop: 'leave', paused: null, server: 'leave' },
  ];

  it.each(table)('onStop $onStop, paused $paused: $server', ({ onStop, paused, server }) => {
    expect(serverOnStop(onStop, paused)).toBe(server);
  });

  it('defaults to stop, as Patroni does, and refuses anything but stop or leave', () => {
    expect(failoverConfigSchema.parse({ node: 'pg0', dataDir: '/x' }).onStop).toBe('stop');
    expect(failoverConfigSchema.parse({ node: 'pg0', dataDir: '/x', onStop: 'leave' }).onStop).toBe('leave');
    const bad = failoverConfigSchema.safeParse({ node: 'pg0', dataDir: '/x', onStop: 'kill' });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['onStop']);
  });
});
