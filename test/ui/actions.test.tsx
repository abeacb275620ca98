import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { waitFor } from '../helpers/wait-for.js';
import { daemonView } from '../fixtures/ui/failover-state.js';
import { selectRow, showConsole, startDaemons, tick, type Daemon } from './console-harness.js';

let daemons: Daemon[] = [];
afterEach(async () => {
  cleanup();
  await Promise.all(daemons.map((d) => d.close()));
  daemons = [];
});

/** Two clusters, a and b, with the same member names pg0, pg1, pg2; pg1 leads both. */
async function twoClusters(readonly = false) {
  daemons = await startDaemons(['a', 'b'].flatMap((c) => ['pg0', 'pg1', 'pg2'].map((m) => daemonView(c, m))));
  await waitFor(() => daemons.every((d) => d.reader.getSnapshot().state !== undefined), 'the daemons to publish', 5000);
  const c = await showConsole(
    daemons.map((d) => ({ reader: d.reader, control: d.control })),
    { readonly },
  );
  const calls = (): Record<string, unknown[]> =>
    Object.fromEntries(
      daemons
        .filter((d) => d.deps.calls.length > 0)
        .map((d) => [d.reader.getSnapshot().identity.instance, d.deps.calls]),
    );
  return { ...c, calls };
}

const untilCalled = (calls: () => Record<string, unknown[]>): Promise<void> =>
  waitFor(() => Object.keys(calls()).length > 0, 'an invoke', 3000);

describe('actions go to the selected row’s own cluster', () => {
  it("s on b's pg2 previews and invokes on b's leader daemon with candidate pg2", async () => {
    const c = await twoClusters();
    await c.press('2');
    expect(await selectRow(c, /^▶ b\s+pg2\s/)).toMatch(/^▶ b\s+pg2/);
    await c.press('s');
    await waitFor(() => c.frame().includes('Proceed?'), 'the preview', 3000);
    expect(c.frame()).toContain('switchover candidate=pg2 on cluster b (via b/pg1)');
    expect(c.frame()).toContain('would switchover {"candidate":"pg2"} in b');
    await c.press('y');
    await untilCalled(c.calls);
    expect(c.calls()).toEqual({ 'b/pg1': [{ action: 'switchover', args: { candidate: 'pg2' } }] });
    await waitFor(() => c.frame().includes('switchover: done: switchover done'), 'the result', 3000);
    await c.press(':events\r');
    await waitFor(() => /b\/pg1\s+action-succeeded\s+switchover: switchover done/.test(c.frame()), 'the audit', 3000);
    expect(c.frame()).toMatch(/b\/pg1\s+action-invoked\s+console via tui invoked switchover/);
  });

  it('cluster a can be operated too: f on a’s pg0 fails over to it through a’s daemon, with the expected loss', async () => {
    const c = await twoClusters();
    await c.press('2');
    await selectRow(c, /^▶ a\s+pg0\s/);
    await c.press('f');
    await waitFor(() => c.frame().includes('Proceed?'), 'the preview', 3000);
    expect(c.frame()).toContain('failover candidate=pg0 on cluster a (via a/pg1)');
    expect(c.frame()).toContain('expected data loss: 4.0 KiB');
    await c.press('\r');
    await untilCalled(c.calls);
    expect(c.calls()).toEqual({ 'a/pg1': [{ action: 'failover', args: { candidate: 'pg0' } }] });
  });

  it('p pauses the selected cluster, whichever came last', async () => {
    const c = await twoClusters();
    await selectRow(c, /^▶ failover\s+a\s/);
    await c.press('p');
    await waitFor(() => c.frame().includes('Proceed?'), 'the preview', 3000);
    expect(c.frame()).toContain('pause on cluster a (via a/pg1)');
    await c.press('y');
    await untilCalled(c.calls);
    expect(c.calls()).toEqual({ 'a/pg1': [{ action: 'pause', args: {} }] });
  });

  it('f and r need a replica; s on the primary switches over to the best', async () => {
    const c = await twoClusters();
    await c.press('f');
    expect(c.frame()).toContain('select a replica in the Failover view (2) to fail over to');
    await c.press('2');
    await selectRow(c, /^▶ b\s+pg1\*/);
    await c.press('r');
    expect(c.frame()).toContain('select a replica in the Failover view (2) to reinit');
    await c.press('s');
    await waitFor(() => c.frame().includes('Proceed?'), 'the preview', 3000);
    expect(c.frame()).toContain('switchover on cluster b (via b/pg1)');
  });

  describe.each([
    ['n', 'n'],
    ['esc', '\x1b'],
  ])('%s cancels every action after its preview', (_name, cancel) => {
    it.each(['switchover', 'failover', 'pause', 'reinit'])('%s', async (action) => {
      const c = await twoClusters();
      await c.press('2');
      await selectRow(c, /^▶ b\s+pg2\s/);
      await c.press({ switchover: 's', failover: 'f', pause: 'p', reinit: 'r' }[action]!);
      await waitFor(() => c.frame().includes('Proceed?'), 'the preview', 3000);
      expect(c.frame()).toContain(`would ${action}`);
      await c.press(cancel);
      await tick(50);
      expect(c.calls()).toEqual({});
      expect(c.frame()).toContain(`${action} cancelled`);
      expect(c.frame()).not.toContain('Proceed?');
    });
  });

  it('an action that fails shows the error in place and in the journal', async () => {
    const c = await twoClusters();
    await c.press('2');
    await selectRow(c, /^▶ a\s+pg2\s/);
    await c.press('r');
    await waitFor(() => c.frame().includes('Proceed?'), 'the preview', 3000);
    await c.press('y');
    await waitFor(() => c.frame().includes('reinit failed: pg2 is the synchronous standby'), 'the error', 3000);
    expect(c.calls()).toEqual({ 'a/pg1': [{ action: 'reinit', args: { member: 'pg2' } }] });
    await c.press(':events\r');
    await waitFor(() => c.frame().includes('reinit failed (precondition)'), 'the audit entry', 3000);
    expect(c.frame()).toMatch(/a\/pg1\s+action-failed\s+reinit failed \(precondition\)/);
  });

  it('read-only mode removes the action keys: nothing previewed, nothing invoked, not in the footer or help', async () => {
    const c = await twoClusters(true);
    await c.press('2');
    expect(c.frame()).not.toContain('<s> switch over');
    await c.press('s');
    await c.press('y');
    expect(c.calls()).toEqual({});
    expect(c.frame()).not.toContain('Proceed?');
    await c.press('?');
    expect(c.frame()).not.toContain('switch over (to the selected replica');
  });

  it('keys of actions no source offers (the lab) are not shown', async () => {
    const c = await twoClusters();
    await c.press('?');
    expect(c.frame()).toContain('switch over');
    expect(c.frame()).not.toContain('set up the lab');
    await c.press('\x1b');
    await c.press('L');
    expect(c.frame()).not.toContain('Proceed?');
  });
});
