import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render } from 'ink-testing-library';
import { AgentStore } from '../../src/agents/kernel/store.js';
import { App } from '../../src/ui/App.js';
import { formatBytes, formatLsn, memberRows } from '../../src/ui/rows/failover-rows.js';
import { UiStore } from '../../src/ui/state/ui-store.js';
import { settle } from '../helpers/render-ui.js';
import { NOW, failoverState } from '../fixtures/ui/failover-state.js';

const tick = (ms = 20): Promise<void> => new Promise((r) => setTimeout(r, ms));
afterEach(() => cleanup());

async function show(size = { columns: 120, rows: 30 }) {
  const store = new AgentStore('failover');
  store.update({ state: failoverState, summary: 'pg1 is primary, 2 replicas streaming' });
  store.record({ severity: 'info', kind: 'action-invoked', message: 'alice via tui invoked switchover' });
  const ui = new UiStore([store], { maxFlushesPerSecond: 100 });
  const app = render(<App store={ui} readonly={false} context={{}} size={size} now={() => NOW} />);
  await tick();
  return {
    ...app,
    store,
    press: async (keys: string) => {
      app.stdin.write(keys);
      await settle(app.frames);
    },
  };
}

describe('Failover cluster view', () => {
  it('2 shows members with role, state, timeline, LSN, lag and last seen; the leader and its lease', async () => {
    const { lastFrame, press } = await show();
    await press('2');
    const frame = lastFrame() ?? '';
    expect(frame).toContain('Failover cluster');
    expect(frame).toContain('main: leader pg1, lease 4.2 s, primary pg1, synchronous');
    expect(frame).toMatch(/pg1\*\s+primary\s+running\s+2\s+0\/3000060\s+0 B\s+0\.0s\s+now/);
    expect(frame).toMatch(/pg2\s+sync replica\s+streaming\s+2\s+0\/3000060\s+96 B\s+0\.1s\s+now/);
    expect(frame).toMatch(/pg0\s+replica\s+rewinding\s+1\s+0\/2FF0000\s+2\.0 MiB\s+-\s+12s ago/);
  });

  it('j moves the selection over members', async () => {
    const { lastFrame, press } = await show();
    await press('2');
    await press('j');
    expect((lastFrame() ?? '').split('\n').find((l) => l.includes('▶'))).toContain('pg2');
  });
});

describe('History view', () => {
  it('3 lists the flight recorder; enter opens the detail, esc goes back', async () => {
    const { lastFrame, press } = await show();
    await press('3');
    expect(lastFrame()).toMatch(/failover\s+pg0 -> pg1\s+350 ms\s+0 B\s+completed\s+pg0 refused connections/);
    await press('\r');
    const detail = lastFrame() ?? '';
    expect(detail).toContain('reason: pg1 has the highest LSN within the lag budget');
    expect(detail).toContain('+ pg2  lsn 0/2FFF000  lag 4.0 KiB  behind pg1 by 4.0 KiB');
    expect(detail).toContain('catch-up wait 12 ms; time to first write 350 ms; lost 0 B');
    await press('\x1b');
    await tick(50);
    expect(lastFrame()).not.toContain('reason:');
    expect(lastFrame()).toContain('pg0 -> pg1');
  });
});

describe('command mode', () => {
  it(':fo switches to the failover view, :hi<tab> completes to history', async () => {
    const { lastFrame, press } = await show();
    await press(':fo');
    expect(lastFrame()).toContain(':fo');
    await press('\r');
    expect(lastFrame()).toContain('main: leader pg1');
    await press(':hi');
    await press('\t');
    expect(lastFrame()).toContain(':history');
    await press('\r');
    expect(lastFrame()).toContain('pg0 -> pg1');
  });

  it('an unknown command says so and changes nothing', async () => {
    const { lastFrame, press } = await show();
    await press(':nope');
    await press('\r');
    expect(lastFrame()).toContain('unknown command :nope');
    expect(lastFrame()).toContain('Overview');
  });

  it('4 shows every event including the audit trail', async () => {
    const { lastFrame, press } = await show();
    await press('4');
    expect(lastFrame()).toContain('Events');
    expect(lastFrame()).toContain('alice via tui invoked switchover');
  });
});

describe('resize and narrow terminals', () => {
  it('follows a resize down to 80x24 without overflowing the screen', async () => {
    const { lastFrame, press, stdout } = await show({ columns: 120, rows: 24 });
    await press('2');
    expect(Math.max(...(lastFrame() ?? '').split('\n').map((l) => l.length))).toBeGreaterThan(80);
    Object.defineProperty(stdout, 'columns', { value: 80, configurable: true });
    stdout.emit('resize');
    await tick(50);
    const lines = (lastFrame() ?? '').split('\n');
    expect(lines.length).toBeLessThanOrEqual(23);
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(80);
  });
});

describe('failover rows', () => {
  it('formats LSNs and bytes the PostgreSQL way', () => {
    expect(formatLsn(0x16b3740)).toBe('0/16B3740');
    expect(formatLsn(2 ** 32 + 0x10)).toBe('1/10');
    expect(formatBytes(1536)).toBe('1.5 KiB');
  });

  it('marks a replica over the lag budget as a warning and an unhealthy one as bad', () => {
    const rows = memberRows(
      [
        {
          agent: 'failover',
          identity: { kind: 'failover', entity: 'main', instance: 'main/pg0', label: 'pg0' },
          version: 1,
          updatedAt: NOW,
          health: { status: 'ok', live: true, ready: true, passes: 1, consecutiveErrors: 0, dependencies: {} },
          state: failoverState,
          summary: '',
          actions: [],
          source: { mode: 'in-process', connected: true, stale: false },
        },
      ],
      NOW,
    );
    expect(rows.map((r) => [r.name, r.tone])).toEqual([
      ['pg1*', 'ok'],
      ['pg2', 'ok'],
      ['pg0', 'bad'],
    ]);
  });
});
