import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { AgentStore } from '../../src/agents/kernel/store.js';
import { UiStore } from '../../src/ui/state/ui-store.js';
import { daemonView } from '../fixtures/ui/failover-state.js';
import { daemonStore, showConsole, tick } from './console-harness.js';

function agent(name: string): AgentStore {
  const store = new AgentStore(name);
  store.update({
    summary: `${name} is in step`,
    health: { status: 'ok', live: true, ready: true, passes: 3, consecutiveErrors: 0, dependencies: {} },
  });
  return store;
}

afterEach(() => cleanup());

describe('the Overview', () => {
  it('shows each entity once with health and which instances answer, each source, and the context', async () => {
    const daemons = ['pg0', 'pg1', 'pg2'].map((m) => daemonStore(daemonView('main', m)));
    const c = await showConsole([...daemons, agent('reporter')].map((reader) => ({ reader })));
    const frame = c.frame();
    expect(frame).toContain('lab/pg-prod');
    expect(frame.match(/^.{2}failover\s+main\s/gm)).toHaveLength(1);
    expect(frame).toMatch(/failover\s+main\s+ok\s+3\/3 pg0 pg1 pg2\s+primary pg1, leader pg1, 3 members/);
    expect(frame).toMatch(/reporter\s+reporter\s+ok\s+1\/1 reporter\s+reporter is in step/);
    expect(frame).toMatch(/http:\/\/127\.0\.0\.1:8001\/main\s+main\/pg1\s+live/);
    expect(frame).toMatch(/in-process\s+reporter\s+live/);
    expect(frame).not.toContain('READ-ONLY');
  });

  it('an attached source that lost its connection says why, and its last state stays', async () => {
    const remote = daemonStore(daemonView('main', 'pg1'));
    const c = await showConsole([{ reader: remote }]);
    remote.update({
      source: {
        mode: 'attached',
        url: 'http://10.0.0.5:8008',
        connected: false,
        stale: true,
        lastError: 'connect ECONNREFUSED 10.0.0.5:8008',
      },
    });
    await tick(50);
    expect(c.frame()).toMatch(
      /http:\/\/10\.0\.0\.5:8008\s+main\/pg1\s+stale\s+ok\s+connect ECONNREFUSED 10\.0\.0\.5:8008/,
    );
    expect(c.frame()).toMatch(/failover\s+main\s+stale\s+0\/1\s+last known: primary pg1/);
  });

  it('a source that never answered shows connecting with the reason, never a bare "starting"', async () => {
    const url = 'http://127.0.0.1:8008';
    const pending = new AgentStore('127.0.0.1:8008', {
      source: { mode: 'attached', url, connected: false, stale: true },
    });
    const c = await showConsole([{ reader: pending }]);
    expect(c.frame()).toMatch(/http:\/\/127\.0\.0\.1:8008\s+\?\s+connecting\s+-\s+no answer yet: connecting/);
    pending.update({
      source: {
        mode: 'attached',
        url,
        connected: false,
        stale: true,
        lastError: '401 unauthorized: the token is wrong',
      },
    });
    await tick(50);
    expect(c.frame()).toMatch(/connecting\s+-\s+401 unauthorized: the token is wrong/);
    expect(c.frame()).not.toContain('STALE');
  });

  it('j/k move the selection, tab moves it to the sources table', async () => {
    const c = await showConsole([agent('alpha'), agent('beta')].map((reader) => ({ reader })));
    expect(c.selected()).toMatch(/^▶ alpha\s+alpha/);
    await c.press('j');
    expect(c.selected()).toMatch(/^▶ beta\s+beta/);
    await c.press('k');
    expect(c.selected()).toMatch(/^▶ alpha/);
    await c.press('\t');
    expect(c.selected()).toMatch(/^▶ in-process\s+alpha/);
  });

  it('? shows help generated from the keymap and the modules, esc closes it', async () => {
    const c = await showConsole([{ reader: daemonStore(daemonView('main', 'pg1')) }]);
    await c.press('?');
    expect(c.frame()).toContain('Keys of Overview');
    expect(c.frame()).toContain("pause or resume the selected cluster's automatic failover");
    expect(c.frame()).toContain('q, ctrl+c');
    await c.press('\x1b');
    await tick(50);
    expect(c.frame()).not.toContain('q, ctrl+c');
    expect(c.frame()).toContain('ENTITIES');
  });

  it('enter opens any row: an entity or a source shows its cells under their titles', async () => {
    const c = await showConsole([{ reader: daemonStore(daemonView('main', 'pg1')) }]);
    await c.press('\r');
    expect(c.frame()).toContain('Overview: failover:main');
    expect(c.frame()).toMatch(/ANSWERING\s+1\/1 pg1/);
    await c.press('\x1b');
    await c.press('\t');
    await c.press('\r');
    expect(c.frame()).toMatch(/SOURCE\s+http:\/\/127\.0\.0\.1:8001\/main/);
  });

  it('shows the read-only badge', async () => {
    const c = await showConsole([{ reader: agent('alpha') }], { readonly: true });
    expect(c.frame()).toContain('READ-ONLY');
  });

  it('says how to get agents when there are none', async () => {
    const c = await showConsole([]);
    expect(c.frame()).toContain('pgdeck attach URL');
  });
});

describe('UiStore', () => {
  it('coalesces a flood of changes into at most maxFlushesPerSecond flushes', async () => {
    const a = agent('flood');
    const ui = new UiStore([{ reader: a }], { maxFlushesPerSecond: 10 });
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

  it('keeps the events of every daemon, though all are named `failover`, keyed by instance and sequence', async () => {
    const daemons = ['pg0', 'pg1', 'pg2'].map((m) => daemonStore(daemonView('main', m)));
    const ui = new UiStore(
      daemons.map((reader) => ({ reader })),
      { maxFlushesPerSecond: 100 },
    );
    for (const d of daemons) for (let i = 0; i < 3; i++) d.record({ severity: 'info', kind: 'tick', message: `${i}` });
    await tick(50);
    ui.close();
    const keys = ui.getSnapshot().events.map((e) => e.key.replace(/@\d+$/, ''));
    expect(keys.sort()).toEqual(['pg0', 'pg1', 'pg2'].flatMap((m) => [1, 2, 3].map((s) => `main/${m}#${s}`)).sort());
  });
});
