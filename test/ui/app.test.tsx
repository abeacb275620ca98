import { afterEach, describe, expect, it } from 'vitest';
import { render, cleanup } from 'ink-testing-library';
import { AgentStore } from '../../src/agents/kernel/store.js';
import { App } from '../../src/ui/App.js';
import { UiStore } from '../../src/ui/state/ui-store.js';
import { settle } from '../helpers/render-ui.js';

const tick = (ms = 0): Promise<void> => new Promise((r) => setTimeout(r, ms));

function agent(
  name: string,
  source?: { mode: 'attached'; url: string; connected: boolean; stale: boolean },
): AgentStore {
  const store = new AgentStore(name, source === undefined ? {} : { source });
  store.update({
    summary: `${name} is in step`,
    health: { status: 'ok', live: true, ready: true, passes: 3, consecutiveErrors: 0, dependencies: {} },
  });
  return store;
}

async function show(stores: AgentStore[], readonly = false) {
  const ui = new UiStore(stores, { maxFlushesPerSecond: 100 });
  const app = render(
    <App
      store={ui}
      readonly={readonly}
      context={{ namespace: 'pg-prod', kubeContext: 'lab' }}
      size={{ columns: 100, rows: 24 }}
    />,
  );
  await tick(20);
  return {
    ...app,
    ui,
    press: async (key: string) => {
      app.stdin.write(key);
      await settle(app.frames);
    },
  };
}

afterEach(() => cleanup());

describe('the first screen', () => {
  it('shows each agent with its source, health and summary, and the context', async () => {
    const { lastFrame } = await show([agent('failover'), agent('citus-sync')]);
    const frame = lastFrame() ?? '';
    expect(frame).toContain('lab/pg-prod');
    expect(frame).toMatch(/failover\s+in-process\s+ok\s+yes\s+failover is in step/);
    expect(frame).toMatch(/citus-sync\s+in-process\s+ok\s+yes/);
    expect(frame).not.toContain('READ-ONLY');
  });

  it('marks an attached agent that lost its connection STALE and keeps its last state', async () => {
    const remote = agent('failover', { mode: 'attached', url: 'http://10.0.0.5:8008', connected: true, stale: false });
    const { lastFrame } = await show([remote]);
    remote.update({
      source: {
        mode: 'attached',
        url: 'http://10.0.0.5:8008',
        connected: false,
        stale: true,
        lastError: 'connection refused',
      },
    });
    await tick(50);
    expect(lastFrame()).toMatch(/failover\s+attached \(STALE\)\s+ok\s+yes\s+failover is in step/);
  });

  it('shows new journal events from every agent, newest first, without debug lines', async () => {
    const a = agent('failover');
    const b = agent('autoscaler');
    const { lastFrame } = await show([a, b]);
    a.record({ severity: 'info', kind: 'failover-started', message: 'promoting pg1' });
    b.record({ severity: 'debug', kind: 'decided', message: 'nothing to do (debug)' });
    b.record({ severity: 'warn', kind: 'pass-failed', message: 'redis unreachable' });
    await tick(50);
    const lines = (lastFrame() ?? '').split('\n');
    const first = lines.findIndex((l) => l.includes('redis unreachable'));
    const second = lines.findIndex((l) => l.includes('promoting pg1'));
    expect(first).toBeGreaterThan(0);
    expect(second).toBeGreaterThan(first);
    expect(lastFrame()).not.toContain('nothing to do (debug)');
  });

  it('moves the selection with j/k and switches panes with tab', async () => {
    const { lastFrame, press } = await show([agent('alpha'), agent('beta')]);
    const selected = (): string => (lastFrame() ?? '').split('\n').find((l) => l.includes('▶')) ?? '';
    expect(selected()).toContain('alpha');
    await press('j');
    expect(selected()).toContain('beta');
    await press('k');
    expect(selected()).toContain('alpha');
    await press('\t');
    expect(selected()).not.toContain('alpha');
  });

  it('? shows help generated from the keymap, esc closes it', async () => {
    const { lastFrame, press } = await show([agent('alpha')]);
    await press('?');
    expect(lastFrame()).toContain('switch between agents and events');
    expect(lastFrame()).toContain('q, ctrl+c');
    await press('\x1b');
    await tick(50);
    expect(lastFrame()).not.toContain('q, ctrl+c');
    expect(lastFrame()).toContain('alpha');
  });

  it('shows the read-only badge', async () => {
    const { lastFrame } = await show([agent('alpha')], true);
    expect(lastFrame()).toContain('READ-ONLY');
  });

  it('says how to get agents when there are none', async () => {
    const { lastFrame } = await show([]);
    expect(lastFrame()).toContain('pgdeck attach URL');
  });
});

describe('UiStore', () => {
  it('coalesces a flood of changes into at most maxFlushesPerSecond flushes', async () => {
    const a = agent('flood');
    const ui = new UiStore([a], { maxFlushesPerSecond: 10 });
    let flushes = 0;
    ui.subscribe(() => flushes++);
    const start = Date.now();
    while (Date.now() - start < 500) {
      a.record({ severity: 'info', kind: 'tick', message: 'x' });
      await tick(1);
    }
    await tick(150);
    ui.close();
    expect(flushes).toBeGreaterThanOrEqual(3);
    expect(flushes).toBeLessThanOrEqual(7);
    expect(ui.getSnapshot().events.length).toBeGreaterThan(50);
  });
});

describe('the events filter', () => {
  async function withEvents() {
    const a = agent('failover');
    const app = await show([a]);
    a.record({ severity: 'info', kind: 'failover-started', message: 'promoting pg1' });
    a.record({ severity: 'warn', kind: 'pass-failed', message: 'etcd unreachable' });
    await tick(50);
    return app;
  }

  it('/ filters events by regex, enter keeps it, esc clears it', async () => {
    const { lastFrame, press } = await withEvents();
    await press('/');
    for (const c of 'promot') await press(c);
    expect(lastFrame()).toContain('/promot');
    expect(lastFrame()).toContain('promoting pg1');
    expect(lastFrame()).not.toContain('etcd unreachable');
    await press('\r');
    expect(lastFrame()).not.toContain('etcd unreachable');
    await press('\x1b');
    await tick(50);
    expect(lastFrame()).toContain('etcd unreachable');
  });

  it('keys that arrive in one chunk (fast typing, paste) are each handled', async () => {
    const { lastFrame, press } = await withEvents();
    await press('/etcd');
    expect(lastFrame()).toContain('/etcd');
    expect(lastFrame()).toContain('etcd unreachable');
    expect(lastFrame()).not.toContain('promoting pg1');
  });

  it('! inverts the filter', async () => {
    const { lastFrame, press } = await withEvents();
    await press('/');
    for (const c of '!etcd') await press(c);
    expect(lastFrame()).toContain('promoting pg1');
    expect(lastFrame()).not.toContain('etcd unreachable');
  });

  it('a bad regex shows an error and filters nothing out', async () => {
    const { lastFrame, press } = await withEvents();
    await press('/');
    for (const c of '(oops') await press(c);
    expect(lastFrame()).toContain('bad filter /(oops');
    expect(lastFrame()).toContain('etcd unreachable');
    expect(lastFrame()).toContain('promoting pg1');
  });
});
