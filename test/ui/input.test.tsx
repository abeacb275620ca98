import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { waitFor } from '../helpers/wait-for.js';
import { daemonView } from '../fixtures/ui/failover-state.js';
import { daemonStore, selectRow, showConsole, startDaemons, type Daemon } from './console-harness.js';

let daemons: Daemon[] = [];
afterEach(async () => {
  cleanup();
  await Promise.all(daemons.map((d) => d.close()));
  daemons = [];
});

const cluster = () => ['pg0', 'pg1', 'pg2'].map((m) => ({ reader: daemonStore(daemonView('main', m)) }));

describe('a chunk holding text and Enter (a paste, a slow ssh link) is the text, then Enter', () => {
  it.each([
    [':fo\r', 'Failover cluster', /MEMBER\s+ROLE/],
    [':hist\r', 'History', /WHEN\s+KIND/],
    [':ev\r', 'Events', /TIME\s+SOURCE/],
    [':hi\t\r', 'History', /WHEN\s+KIND/],
  ])('%j switches the view and leaves no prompt', async (chunk, title, heading) => {
    const c = await showConsole(cluster());
    await c.press(chunk);
    expect(c.lines()[0]).toContain(title);
    expect(c.frame()).toMatch(heading);
    expect(c.frame()).not.toMatch(/^:/m);
  });

  it(':help⏎ opens the help; :nope⏎ says what is known', async () => {
    const c = await showConsole(cluster());
    await c.press(':help\r');
    expect(c.frame()).toContain('Keys of Overview');
    await c.press('\x1b');
    await c.press(':nope\r');
    expect(c.frame()).toContain(
      'unknown command :nope (try :overview :failover :history :citus :pgc :autoscaler :lab :events :help :q)',
    );
  });

  it('/pgx⌫2⏎ filters by pg2 and keeps the filter; the Enter does not end up in the prompt', async () => {
    const c = await showConsole(cluster(), { view: 'failover' });
    await c.press('/pgx\x7f2\r');
    const rows = c
      .frame()
      .split('\n')
      .filter((l) => /^(▶ | {2})pg\d/.test(l));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatch(/pg2\s+replica/);
    expect(c.frame()).toContain('/pg2  (esc clears)');
    expect(c.frame()).not.toContain('█');
  });

  it('in the confirmation, y⏎ in one chunk invokes once, then Enter opens the selected row', async () => {
    daemons = await startDaemons(['pg0', 'pg1', 'pg2'].map((m) => daemonView('main', m)));
    await waitFor(() => daemons.every((d) => d.reader.getSnapshot().state !== undefined), 'the daemons', 5000);
    const c = await showConsole(
      daemons.map((d) => ({ reader: d.reader, control: d.control })),
      { view: 'failover' },
    );
    await selectRow(c, /^▶ pg2/);
    await c.press('s');
    await waitFor(() => c.frame().includes('Proceed?'), 'the preview', 3000);
    await c.press('y\r');
    await waitFor(() => daemons.some((d) => d.deps.calls.length > 0), 'the invoke', 3000);
    expect(daemons.flatMap((d) => d.deps.calls)).toEqual([{ action: 'switchover', args: { candidate: 'pg2' } }]);
    await waitFor(() => c.frame().includes('main/pg2: replica, streaming'), 'the detail pane', 3000);
  });
});
