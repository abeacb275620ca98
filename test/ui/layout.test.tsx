import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { formatClock } from '../../src/ui/format.js';
import { waitFor } from '../helpers/wait-for.js';
import { NOW, daemonView } from '../fixtures/ui/failover-state.js';
import { daemonStore, showConsole } from './console-harness.js';

afterEach(() => cleanup());

/** Two clusters' six daemons, one of them away, 1,000 journal events between them. */
function sources() {
  const stores = ['a', 'b'].flatMap((c) =>
    ['pg0', 'pg1', 'pg2'].map((m) =>
      daemonStore(
        daemonView(c, m),
        c === 'b' && m === 'pg0' ? { live: false, lastError: 'connect ECONNREFUSED 127.0.0.1:8000' } : {},
      ),
    ),
  );
  for (let i = 0; i < 1000; i++)
    stores[i % 6]!.record({ severity: 'info', kind: 'decided', message: `pass ${i}: nothing to do`, time: NOW + i });
  return stores.map((reader) => ({ reader }));
}

const views = [
  { key: '1', title: 'Overview', heading: /^ {2}KIND\s+ENTITY\s+HEALTH/, footer: '<s> switch over' },
  { key: '2', title: 'Failover cluster', heading: /^ {2}CLUSTER\s+MEMBER\s+ROLE\s+STATE/, footer: '<f> fail over' },
  { key: '3', title: 'History', heading: /^ {2}CLUSTER\s+WHEN\s+KIND\s+CHANGE/, footer: '<s> switch over' },
  { key: '8', title: 'Events', heading: /^ {2}TIME\s+SOURCE\s+KIND\s+MESSAGE/, footer: '<enter> detail' },
];

describe.each([
  { columns: 80, rows: 24 },
  { columns: 160, rows: 48 },
])('at $columns x $rows', (size) => {
  const clock = formatClock(NOW).slice(0, 5);

  function checkFrame(frame: string): string[] {
    const lines = frame.split('\n');
    expect(lines.length).toBeLessThanOrEqual(size.rows - 1);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(size.columns);
    expect(lines[0]).toMatch(/^pgdeck lab\/pg-prod /);
    expect(lines[0]!.trimEnd().endsWith(` ${clock}`)).toBe(true);
    expect(lines.filter((l) => l.startsWith('pgdeck '))).toHaveLength(1);
    return lines;
  }

  it.each(views)('$title keeps the header, the column headers and its own keys first in the footer', async (v) => {
    const c = await showConsole(sources(), { size, color: false });
    await c.press(v.key);
    const lines = checkFrame(c.frame());
    expect(lines[0]).toContain(v.title);
    expect(lines.some((l) => v.heading.test(l))).toBe(true);
    expect(lines.at(-1)!.startsWith(v.footer)).toBe(true);
    if (v.key === '8') expect(lines.some((l) => /^ {2}EVENTS \(\d+\)/.test(l))).toBe(true);
    if (v.key === '2') expect(lines.some((l) => /LAST SEEN/.test(l))).toBe(true);
  });

  it('help fits (scrolling), and detail and YAML panes keep the header and footer', async () => {
    const c = await showConsole(sources(), { size, color: false });
    await c.press('?');
    let lines = checkFrame(c.frame());
    expect(lines.some((l) => l.includes('Keys'))).toBe(true);
    if (size.rows === 24) {
      expect(c.frame()).toMatch(/of \d+, j\/k scroll/);
      await c.press('G');
      expect(c.frame()).toContain('sorts by a column');
    }
    await c.press('\x1b');
    await c.press('2');
    await c.press('\r');
    checkFrame(c.frame());
    expect(c.frame()).toContain('a/pg0: replica, rewinding');
    await c.press('\x1by');
    await waitFor(() => c.frame().includes('as YAML'), 'the YAML pane', 3000);
    lines = checkFrame(c.frame());
    expect(lines.at(-1)!.startsWith('<f> fail over')).toBe(true);
  });
});
