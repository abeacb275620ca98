import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render } from 'ink-testing-library';
import { startAgent, type RunningAgent } from '../../src/agents/kernel/runtime.js';
import type { FailoverState } from '../../src/agents/failover/types.js';
import { App } from '../../src/ui/App.js';
import { ActionsContext } from '../../src/ui/state/agent-actions.js';
import { UiStore } from '../../src/ui/state/ui-store.js';
import { settle } from '../helpers/render-ui.js';
import { failoverLikeAgent, type Recorder } from '../fixtures/ui/failover-like-agent.js';
import { NOW } from '../fixtures/ui/failover-state.js';

const tick = (ms = 30): Promise<void> => new Promise((r) => setTimeout(r, ms));
let agent: RunningAgent<Record<string, never>, Recorder, FailoverState> | undefined;
afterEach(async () => {
  cleanup();
  await agent?.close();
});

async function show(readonly = false) {
  agent = await startAgent(failoverLikeAgent, {});
  await tick(50);
  const ui = new UiStore([agent.reader], { maxFlushesPerSecond: 100 });
  const app = render(
    <ActionsContext.Provider value={new Map([[agent.name, agent.control]])}>
      <App store={ui} readonly={readonly} context={{}} size={{ columns: 120, rows: 30 }} now={() => NOW} />
    </ActionsContext.Provider>,
  );
  await tick();
  const calls = agent.deps.calls;
  return {
    ...app,
    calls,
    agent,
    press: async (keys: string) => {
      app.stdin.write(keys);
      await settle(app.frames);
    },
  };
}

describe('actions: preview, then confirm or cancel', () => {
  it('s shows the switchover preview; y invokes it and the result appears; the audit trail records it', async () => {
    const { lastFrame, press, calls, agent: a } = await show();
    await press('s');
    expect(lastFrame()).toContain('would switchover {}');
    expect(lastFrame()).toContain('restarts: pg0');
    expect(lastFrame()).toContain('Proceed? y/enter = yes, n/esc = cancel');
    await press('y');
    await tick(50);
    expect(calls).toEqual([{ action: 'switchover', args: {} }]);
    expect(lastFrame()).toContain('switchover: done: switchover done');
    expect(
      a.reader
        .events(0)
        .events.some((e) => e.kind === 'action-invoked' && e.message.includes('console via tui invoked switchover')),
    ).toBe(true);
  });

  describe.each([
    ['n', 'n'],
    ['esc', '\x1b'],
  ])('%s cancels every action after its preview', (_name, cancel) => {
    it.each(['switchover', 'failover', 'pause', 'reinit'])('%s', async (action) => {
      const { lastFrame, press, calls } = await show();
      await press('2');
      await press('j');
      await press({ switchover: 's', failover: 'f', pause: 'p', reinit: 'r' }[action]!);
      expect(lastFrame()).toContain(`would ${action}`);
      expect(lastFrame()).toContain('Proceed? y/enter = yes, n/esc = cancel');
      await press(cancel);
      await tick(50);
      expect(calls).toEqual([]);
      expect(lastFrame()).toContain(`${action} cancelled`);
      expect(lastFrame()).not.toContain('Proceed?');
    });
  });

  it('an action that fails shows the error in place and in the journal', async () => {
    const { lastFrame, press, calls, agent: a } = await show();
    await press('2');
    await press('j');
    await press('r');
    await press('y');
    await tick(50);
    expect(calls).toEqual([{ action: 'reinit', args: { member: 'pg2' } }]);
    expect(lastFrame()).toContain('reinit failed: pg2 is the synchronous standby; the test double refuses');
    expect(
      a.reader
        .events(0)
        .events.some((e) => e.kind === 'action-failed' && e.message.includes('pg2 is the synchronous standby')),
    ).toBe(true);
    await press('4');
    expect(lastFrame()).toContain('reinit failed (precondition)');
  });

  it('f fails over to the replica selected in the Failover view and shows the expected data loss', async () => {
    const { lastFrame, press, calls } = await show();
    await press('f');
    expect(lastFrame()).toContain('select a replica in the Failover view');
    await press('2');
    await press('j');
    await press('f');
    expect(lastFrame()).toContain('failover candidate=pg2 on failover');
    expect(lastFrame()).toContain('expected data loss: 4.0 KiB');
    await press('\x1b');
    expect(calls).toEqual([]);
    await press('f');
    await press('\r');
    await tick(50);
    expect(calls).toEqual([{ action: 'failover', args: { candidate: 'pg2' } }]);
  });

  it('s with a replica selected switches over to it; r reinits the selected replica', async () => {
    const { press, calls } = await show();
    await press('2');
    await press('jj');
    await press('s');
    await press('y');
    await press('r');
    await press('y');
    await tick(50);
    expect(calls).toEqual([
      { action: 'switchover', args: { candidate: 'pg0' } },
      { action: 'reinit', args: { member: 'pg0' } },
    ]);
  });

  it('p pauses automatic failover', async () => {
    const { press, calls } = await show();
    await press('p');
    await press('y');
    await tick(50);
    expect(calls).toEqual([{ action: 'pause', args: {} }]);
  });

  it('read-only mode removes the action keys: nothing previewed, nothing invoked, not in the footer', async () => {
    const { lastFrame, press, calls } = await show(true);
    expect(lastFrame()).not.toContain('<s> switch over');
    await press('s');
    await press('y');
    expect(calls).toEqual([]);
    expect(lastFrame()).not.toContain('Proceed?');
  });

  it('keys of actions no agent offers (scale, lab) are not shown', async () => {
    const { lastFrame, press } = await show();
    await press('?');
    expect(lastFrame()).toContain('switch over');
    expect(lastFrame()).not.toContain('scale up by one');
    expect(lastFrame()).not.toContain('set up the lab');
  });
});
