import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { AgentStore } from '../../src/agents/kernel/store.js';
import { waitFor } from '../helpers/wait-for.js';
import { NOW, daemonView, failoverState } from '../fixtures/ui/failover-state.js';
import { daemonStore, selectRow, showConsole, tick } from './console-harness.js';

afterEach(() => cleanup());

const cluster = () => ['pg0', 'pg1', 'pg2'].map((m) => ({ reader: daemonStore(daemonView('main', m)) }));

const memberLine = (frame: string, name: string): string =>
  frame.split('\n').find((l) => new RegExp(`^(▶ |  )${name}\\*?\\s`).test(l)) ?? '';

describe('Failover cluster view', () => {
  it('2 shows each member once: role, state, TL, LSN, lag bytes and seconds, sync state, last seen, daemon', async () => {
    const c = await showConsole(cluster());
    await c.press('2');
    const frame = c.frame();
    expect(frame).toMatch(/^pgdeck lab\/pg-prod Failover cluster/);
    expect(frame).toMatch(/^main: leader pg1, lease 4\.2 s, primary pg1, synchronous · daemons 3\/3 answer$/m);
    expect(frame).toContain('* leader daemon');
    expect(frame).toMatch(/MEMBER\s+ROLE\s+STATE\s+TL\s+LSN\s+LAG\s+LAG S\s+SYNC\s+LAST SEEN\s+DAEMON/);
    expect(memberLine(frame, 'pg1')).toMatch(
      /pg1\*\s+primary\s+running\s+2\s+0\/3000060\s+0 B\s+0\.0s\s+-\s+now\s+live/,
    );
    expect(memberLine(frame, 'pg2')).toMatch(
      /pg2\s+replica\s+streaming\s+2\s+0\/3000060\s+96 B\s+0\.1s\s+sync\s+now\s+live/,
    );
    expect(memberLine(frame, 'pg0')).toMatch(
      /pg0\s+replica\s+rewinding\s+1\s+0\/2FF0000\s+2\.0 MiB\s+-\s+potential\s+12s ago\s+live/,
    );
    expect(frame.match(/^(▶ | {2})pg\d/gm)).toHaveLength(3);
  });

  it('the lease counts down on its own, a second at a time', async () => {
    let t = NOW;
    const c = await showConsole(cluster(), { view: 'failover', now: () => t });
    expect(c.frame()).toContain('lease 4.2 s');
    t += 1500;
    await waitFor(() => c.frame().includes('lease 2.7 s'), 'the countdown to tick', 3000);
    expect(c.frame()).toContain('main: leader pg1, lease 2.7 s, primary pg1');
  });

  it('shift+letter sorts by a column, again reverses, and marks the column', async () => {
    const c = await showConsole(cluster(), { view: 'failover' });
    const order = (): string[] => [...c.frame().matchAll(/^(?:▶ | {2})(pg\d)/gm)].map((m) => m[1]!);
    expect(order()).toEqual(['pg0', 'pg1', 'pg2']);
    await c.press('B');
    expect(c.frame()).toMatch(/LAG↑/);
    expect(order()).toEqual(['pg1', 'pg2', 'pg0']);
    await c.press('B');
    expect(c.frame()).toMatch(/LAG↓/);
    expect(order()).toEqual(['pg0', 'pg2', 'pg1']);
  });

  it('enter on a member: conninfo with the password masked, timeline, slots, its recent events', async () => {
    const sources = cluster();
    sources[1]!.reader.record({ severity: 'info', kind: 'promoted', message: 'pg1 promoted on timeline 2' });
    const c = await showConsole(sources, { view: 'failover' });
    expect(await selectRow(c, /pg1\*/)).toContain('pg1');
    await c.press('\r');
    const detail = c.frame();
    expect(detail).toContain('main/pg1: primary, running, leader (as its own daemon reports it)');
    expect(detail).toContain('conninfo: postgresql://replicator:***@127.0.0.1:5501/postgres');
    expect(detail).not.toContain('s3cret-pw');
    expect(detail).toContain('timeline 2 · received 0/3000060');
    expect(detail).toContain('pg2_slot (physical, active, restart 0/3000000)');
    expect(detail).toMatch(/promoted pg1 promoted on timeline 2/);
    await c.press('\x1b');
    expect(c.frame()).toContain('MEMBER');
  });

  it('y shows the selected cluster as YAML, secrets masked', async () => {
    const c = await showConsole(cluster(), { view: 'failover' });
    await c.press('y');
    await waitFor(() => c.frame().includes('failover:main as YAML'), 'the YAML pane', 3000);
    const frame = c.frame();
    expect(frame).toContain('kind: failover');
    expect(frame).toContain('entity: main');
    expect(frame).toMatch(/primary: pg1/);
    expect(frame).not.toContain('s3cret-pw');
  });
});

/** A source whose handle offers `/logs`, answering like a LogTail with the sources it advertises. */
class LoggingStore extends AgentStore {
  asked: string[] = [];
  offers: readonly string[] = ['daemon', 'postgres'];
  async logs(source: string, lines: number): Promise<{ source: string; lines: string[]; sources: readonly string[] }> {
    this.asked.push(`${source}:${lines}`);
    return { source, lines: [`${source} line 1`, `${source} password=hunter2 line 2`], sources: this.offers };
  }
}

describe('logs (l)', () => {
  it("tails the selected member's daemon and postgres logs through the source's logs method", async () => {
    const state = daemonView('main', 'pg2');
    const store = new LoggingStore('failover', {
      now: () => NOW,
      source: { mode: 'attached', url: 'http://127.0.0.1:8002', connected: true, stale: false },
      identity: { kind: 'failover', entity: 'main', instance: 'main/pg2', label: 'pg2' },
    });
    store.update({ state, summary: 'pg2 is replica' });
    const c = await showConsole([{ reader: daemonStore(daemonView('main', 'pg1')) }, { reader: store }], {
      view: 'failover',
    });
    await selectRow(c, /pg2/);
    await c.press('l');
    await waitFor(() => c.frame().includes('postgres line 1'), 'the logs to arrive', 3000);
    expect(store.asked).toEqual(['daemon:200', 'postgres:200']);
    expect(c.frame()).toContain('logs of main/pg2');
    expect(c.frame()).toContain('--- daemon (last 2 lines)');
    expect(c.frame()).toContain('postgres password=*** line 2');
  });

  it('asks for exactly the sources the handle advertises, whatever they are called', async () => {
    const store = new LoggingStore('failover', {
      now: () => NOW,
      source: { mode: 'attached', url: 'http://127.0.0.1:8002', connected: true, stale: false },
      identity: { kind: 'failover', entity: 'main', instance: 'main/pg2', label: 'pg2' },
    });
    store.offers = ['daemon', 'coordinator', 'pgbouncer'];
    store.update({ state: daemonView('main', 'pg2'), summary: 'pg2 is replica' });
    const c = await showConsole([{ reader: daemonStore(daemonView('main', 'pg1')) }, { reader: store }], {
      view: 'failover',
    });
    await selectRow(c, /pg2/);
    await c.press('l');
    await waitFor(() => c.frame().includes('pgbouncer line 1'), 'the logs to arrive', 3000);
    expect(store.asked).toEqual(['daemon:200', 'coordinator:200', 'pgbouncer:200']);
    expect(c.frame()).toContain('--- coordinator (last 2 lines)');
    expect(c.frame()).not.toContain('postgres');
  });

  it('says so when the source offers no logs', async () => {
    const c = await showConsole(cluster(), { view: 'failover' });
    await selectRow(c, /pg2/);
    await c.press('l');
    expect(c.frame()).toContain('not offered by this source (http://127.0.0.1:8002/main)');
  });
});

describe('History view', () => {
  it('3 lists each entry once (three daemons carry it); enter opens the detail, esc goes back', async () => {
    const c = await showConsole(cluster(), { view: 'history' });
    expect(c.frame().match(/completed/g)).toHaveLength(1);
    expect(c.frame()).toMatch(/failover\s+pg0 -> pg1\s+350 ms\s+0 B\s+completed\s+pg0 refused connections/);
    await c.press('\r');
    const detail = c.frame();
    expect(detail).toContain('reason: pg1 has the highest LSN within the lag budget');
    expect(detail).toContain('+ pg2  lsn 0/2FFF000  lag 4.0 KiB  behind pg1 by 4.0 KiB');
    expect(detail).toContain('catch-up wait 12 ms; time to first write 350 ms; lost 0 B');
    await c.press('\x1b');
    await tick(30);
    expect(c.frame()).toMatch(/WHEN\s+KIND\s+CHANGE/);
  });

  it('says when nothing was recorded yet', async () => {
    const c = await showConsole([{ reader: daemonStore({ ...failoverState, history: [] }) }], { view: 'history' });
    expect(c.frame()).toContain('no failover or switchover recorded yet');
  });
});
