import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import type { AgentStore } from '../../src/agents/kernel/store.js';
import { NOW, daemonView, memberStatus } from '../fixtures/ui/failover-state.js';
import { daemonStore, showConsole, tick } from './console-harness.js';

afterEach(() => cleanup());

/** The six daemons of clusters a and b; each has said its idle sentence `repeats` times. */
let at = NOW;
const time = (): number => (at += 10);

function sixDaemons(repeats: number): AgentStore[] {
  const stores = ['a', 'b'].flatMap((c) => ['pg0', 'pg1', 'pg2'].map((m) => daemonStore(daemonView(c, m))));
  for (const s of stores) {
    const { label } = s.getSnapshot().identity;
    for (let i = 0; i < repeats; i++)
      s.record({ severity: 'info', kind: 'decided', message: `${label} is in step`, time: time() });
  }
  return stores;
}

const eventLines = (frame: string): string[] => frame.split('\n').filter((l) => /^(▶ | {2})\d\d:\d\d:\d\d /.test(l));

describe('Events view over six daemons of two clusters', () => {
  it('shows every instance’s events with a source column (cluster/member), repeats folded with a count', async () => {
    const stores = sixDaemons(12);
    stores[4]!.record({
      severity: 'warn',
      kind: 'fenced',
      message: 'fencing pg1: it is writable but pg2 is the primary',
      time: time(),
    });
    const c = await showConsole(
      stores.map((reader) => ({ reader })),
      { view: 'events' },
    );
    const lines = eventLines(c.frame());
    expect(lines).toHaveLength(7);
    expect(lines[0]).toMatch(/b\/pg1\s+fenced\s+fencing pg1/);
    for (const cluster of ['a', 'b'])
      for (const m of ['pg0', 'pg1', 'pg2'])
        expect(
          lines.filter((l) => new RegExp(`${cluster}/${m}\\s+decided\\s+${m} is in step ×12$`).test(l.trimEnd())),
        ).toHaveLength(1);
    expect(c.frame()).toContain('EVENTS (7)');
  });

  it('/pg2 keeps the rows of pg2 (its events and events that name it); esc brings the rest back', async () => {
    const stores = sixDaemons(2);
    stores[1]!.record({ severity: 'info', kind: 'switchover', message: 'switching over to pg2', time: time() });
    const c = await showConsole(
      stores.map((reader) => ({ reader })),
      { view: 'events' },
    );
    await c.press('/pg2');
    const lines = eventLines(c.frame());
    expect(lines.map((l) => l.match(/[ab]\/pg\d/)?.[0])).toEqual(['a/pg1', 'b/pg2', 'a/pg2']);
    expect(c.frame()).toContain('/pg2█');
    await c.press('\r');
    expect(eventLines(c.frame())).toHaveLength(3);
    expect(c.frame()).toContain('/pg2  (esc clears)');
    await c.press('\x1b');
    await tick(30);
    expect(eventLines(c.frame())).toHaveLength(7);
  });

  it('/ filters the rows of the current view, not only events', async () => {
    const c = await showConsole(
      sixDaemons(1).map((reader) => ({ reader })),
      { view: 'failover' },
    );
    await c.press('/pg0\r');
    const rows = c
      .frame()
      .split('\n')
      .filter((l) => /^(▶ | {2})[ab]\s+pg\d/.test(l));
    expect(
      rows.map((r) =>
        r
          .match(/^(?:▶ | {2})([ab])\s+(pg\d)/)!
          .slice(1)
          .join('/'),
      ),
    ).toEqual(['a/pg0', 'b/pg0']);
  });

  it('enter on an event shows its fields', async () => {
    const [store] = sixDaemons(0);
    store!.record({
      severity: 'info',
      kind: 'action-invoked',
      message: 'alice via tui invoked switchover',
      fields: { action: 'switchover', args: { candidate: 'pg2' } },
    });
    const c = await showConsole([{ reader: store! }], { view: 'events' });
    await c.press('\r');
    expect(c.frame()).toContain('action-invoked (info) from a/pg0, seq 1');
    expect(c.frame()).toContain('args: {"candidate":"pg2"}');
  });
});

describe('after a kill -9 of the primary', () => {
  it('the Failover view shows one primary, the new leader, and the dead member unreachable (no ghost rows)', async () => {
    const dead = daemonStore(daemonView('a', 'pg1'), {
      live: false,
      lastError: 'connect ECONNREFUSED 127.0.0.1:8001',
      at: NOW - 30_000,
    });
    const after = (self: string) =>
      daemonStore(
        daemonView('a', self, {
          primary: 'pg2',
          leader: { name: 'pg2', leaseExpiresAt: null },
          members: [
            memberStatus({ name: 'pg0' }),
            memberStatus({ name: 'pg2', role: 'primary', state: 'running', writtenLsn: 0x4000000, timeline: 3 }),
          ],
        }),
      );
    const c = await showConsole(
      [dead, after('pg0'), after('pg2')].map((reader) => ({ reader })),
      { view: 'failover' },
    );
    const frame = c.frame();
    const rows = frame.split('\n').filter((l) => /^(▶ | {2})pg\d/.test(l));
    expect(rows).toHaveLength(3);
    expect(rows.filter((r) => /\sprimary\s/.test(r))).toHaveLength(1);
    expect(rows.find((r) => r.includes('pg2'))).toMatch(/pg2\*\s+primary\s+running/);
    expect(rows.find((r) => r.includes('pg1'))).toMatch(/pg1\s+unknown\s+unreachable\s.*\saway$/);
    expect(frame).toMatch(
      /^a: leader pg2, primary pg2, synchronous · daemons 2\/3 answer \(pg1 away: connect ECONNREFUSED/m,
    );
  });
});
