import { describe, expect, it } from 'vitest';
import type { JournalEvent } from '../../src/agents/kernel/journal.js';
import { historyColumns, memberColumns } from '../../src/ui/agents/failover/rows.js';
import { formatAge, formatBytes, formatDuration, formatLsn, maskSecrets } from '../../src/ui/format.js';
import { keyPresses } from '../../src/ui/keys/chunk.js';
import { SHARED_KEYS } from '../../src/ui/keys/keymap.js';
import type { Column, TableRow, UiEvent } from '../../src/ui/module.js';
import { MODULES } from '../../src/ui/registry.js';
import { eventColumns, eventRows } from '../../src/ui/rows/event-rows.js';
import { filterRows, parseFilter } from '../../src/ui/rows/filter.js';
import { sortRows } from '../../src/ui/rows/sort.js';
import { columnWidths, fit, layoutCells } from '../../src/ui/rows/table-layout.js';
import { windowStart } from '../../src/ui/rows/window.js';
import { groupEntities, routeAction } from '../../src/ui/state/entities.js';
import { sourceView } from '../../src/ui/state/sources.js';
import { completePrompt, promptTarget, viewCatalog } from '../../src/ui/views/catalog.js';
import { entityColumns, sourceColumns } from '../../src/ui/views/overview.js';
import { NOW, daemonView } from '../fixtures/ui/failover-state.js';
import { daemonStore } from './console-harness.js';

describe('format', () => {
  it.each([
    [formatBytes(96), '96 B'],
    [formatBytes(4096), '4.0 KiB'],
    [formatBytes(2 * 1048576), '2.0 MiB'],
    [formatBytes(3 * 1024 ** 3), '3.0 GiB'],
    [formatLsn(0x16b3740), '0/16B3740'],
    [formatLsn(2 ** 32 + 0x10), '1/10'],
    [formatAge(200), 'now'],
    [formatAge(12_000), '12s ago'],
    [formatAge(180_000), '3m ago'],
    [formatAge(2 * 3_600_000), '2h ago'],
    [formatDuration(350), '350 ms'],
    [formatDuration(4200), '4.2 s'],
    [formatDuration(185_000), '3m 5s'],
  ])('%s is %s', (got, want) => expect(got).toBe(want));

  it('masks passwords in URLs and key=value text', () => {
    expect(maskSecrets('postgresql://replicator:s3cret@10.0.0.5:5432/postgres')).toBe(
      'postgresql://replicator:***@10.0.0.5:5432/postgres',
    );
    expect(maskSecrets('host=a password=hunter2 user=b')).toBe('host=a password=*** user=b');
    expect(maskSecrets('postgresql://10.0.0.5:5432/postgres')).toBe('postgresql://10.0.0.5:5432/postgres');
  });
});

const row = (key: string, cells: string[], sort?: (string | number | null)[]): TableRow => ({
  key,
  cells,
  tone: 'plain',
  ...(sort === undefined ? {} : { sort }),
});

describe('the table layout', () => {
  const columns: Column[] = [
    { title: 'NAME' },
    { title: 'LSN', wide: true },
    { title: 'STATE' },
    { title: 'MESSAGE', flex: true },
  ];
  const rows = [row('a', ['pg0', '0/3000060', 'streaming', 'x'.repeat(60)])];

  it('sizes columns from content and cuts with …', () => {
    expect(columnWidths(columns, rows, 200)).toEqual([4, 9, 9, 60]);
    expect(fit('streaming', 5)).toBe('stre…');
    expect(fit('7', 3, 'right')).toBe('  7');
  });

  it('narrow: the flexible column gives way first, then wide columns go (the flexible one takes their room), never below a title', () => {
    expect(columnWidths(columns, rows, 60)).toEqual([4, 9, 9, 33]);
    expect(columnWidths(columns, rows, 40)).toEqual([4, 0, 9, 23]);
    // the room the left-out wide column frees goes to the flexible one (not kept at 24)
    expect(columnWidths(columns, rows, 50)).toEqual([4, 0, 9, 33]);
    const tight = columnWidths(columns, rows, 20);
    expect(tight[0]).toBeGreaterThanOrEqual(4);
    expect(tight[2]).toBeGreaterThanOrEqual(5);
    expect(layoutCells(rows[0]!.cells, [4, 0, 9, 5], [])).toBe('pg0  streaming xxxx…');
  });

  it('keeps the selected row in the window', () => {
    expect(windowStart(100, 0, 10)).toBe(0);
    expect(windowStart(100, 50, 10)).toBe(41);
    expect(windowStart(5, 4, 10)).toBe(0);
  });

  it('sorts by sort values (numbers, nulls last) or text, and reverses', () => {
    const rs = [
      row('a', ['a', '2 MiB'], [null, 2e6]),
      row('b', ['b', '96 B'], [null, 96]),
      row('c', ['c', '-'], [null, null]),
    ];
    expect(sortRows(rs, { column: 1, descending: false }).map((r) => r.key)).toEqual(['b', 'a', 'c']);
    expect(sortRows(rs, { column: 1, descending: true }).map((r) => r.key)).toEqual(['a', 'b', 'c']);
    expect(
      sortRows([row('x', ['pg10']), row('y', ['pg2'])], { column: 0, descending: false }).map((r) => r.key),
    ).toEqual(['y', 'x']);
  });

  it('filters rows by regex over their cells and instance; ! inverts; a bad regex filters nothing', () => {
    const rs = [row('a', ['pg0', 'streaming']), { ...row('b', ['x', 'y']), instance: 'b/pg2' }];
    expect(filterRows(rs, parseFilter('PG2'), 'PG2').map((r) => r.key)).toEqual(['b']);
    expect(filterRows(rs, parseFilter('!pg2'), '!pg2').map((r) => r.key)).toEqual(['a']);
    const bad = parseFilter('(oops');
    expect(bad.ok).toBe(false);
    expect(filterRows(rs, bad, '(oops')).toHaveLength(2);
  });
});

describe('key presses', () => {
  it('splits a chunk of text and Enter into the text, then Enter', () => {
    expect(keyPresses('pg2\r', {}).map((k) => k.name)).toEqual(['p', 'g', '2', 'return']);
    expect(keyPresses(':fo\t\r', {}).map((k) => k.name)).toEqual([':', 'f', 'o', 'tab', 'return']);
  });

  it('keeps single named keys as Ink reports them', () => {
    expect(keyPresses('', { return: true })).toEqual([{ name: 'return', text: '' }]);
    expect(keyPresses('', { escape: true })).toEqual([{ name: 'escape', text: '' }]);
    expect(keyPresses('c', { ctrl: true })).toEqual([{ name: 'ctrl+c', text: '' }]);
    expect(keyPresses('G', {})).toEqual([{ name: 'G', text: 'G' }]);
    expect(keyPresses('y', { meta: true }).map((k) => k.name)).toEqual(['escape', 'y']);
  });
});

const event = (instance: string, seq: number, message: string, kind = 'decided', severity = 'info'): UiEvent => {
  const e: JournalEvent = { seq, time: NOW + seq, agent: 'failover', severity: severity as 'info', kind, message };
  const [entity, label] = instance.split('/') as [string, string];
  return { key: `${instance}#${seq}@${e.time}`, sourceId: 's0', kind: 'failover', entity, instance, label, event: e };
};

describe('event rows', () => {
  it("fold each instance's consecutive identical events into one row with a count, newest first", () => {
    const events = [
      ...Array.from({ length: 12 }, (_, i) => event('a/pg0', i + 1, 'pg0 is replica; primary pg1')),
      event('a/pg1', 20, 'pg1 is primary'),
      event('a/pg1', 21, 'pg1 is primary'),
      event('b/pg0', 22, 'debug noise', 'log', 'debug'),
      event('a/pg0', 23, 'pg0 is replica; primary pg1'),
      event('a/pg0', 24, 'promoting pg0', 'failover-started'),
    ];
    const rows = eventRows(events, true);
    expect(rows.map((r) => r.cells.slice(1).join(' | '))).toEqual([
      'a/pg0 | failover-started | promoting pg0',
      'a/pg0 | decided | pg0 is replica; primary pg1 ×13',
      'a/pg1 | decided | pg1 is primary ×2',
    ]);
    expect(eventRows(events, false)[0]!.cells[1]).toBe('pg0');
  });

  it('keeps unchanged rows the same objects, so memoised rows do not redraw', () => {
    const cache = new Map<string, TableRow>();
    const first = eventRows([event('a/pg0', 1, 'x'), event('a/pg1', 2, 'y')], false, cache);
    const second = eventRows([event('a/pg0', 1, 'x'), event('a/pg1', 2, 'y'), event('a/pg1', 3, 'y')], false, cache);
    expect(second.find((r) => r.instance === 'a/pg0')).toBe(first.find((r) => r.instance === 'a/pg0'));
    expect(second.find((r) => r.instance === 'a/pg1')).not.toBe(first.find((r) => r.instance === 'a/pg1'));
  });
});

describe('sources, entities and routing', () => {
  it('a source says why it is not live: the wire reason, or that it is still connecting', () => {
    const stale = daemonStore(daemonView('a', 'pg0'), { live: false, lastError: '401 unauthorized: wrong token' });
    expect(sourceView('s0', stale.getSnapshot(), true, false)).toMatchObject({
      status: 'stale',
      live: false,
      why: '401 unauthorized: wrong token',
    });
    const fresh = {
      ...stale.getSnapshot(),
      identity: {
        kind: '127.0.0.1:8000',
        entity: '127.0.0.1:8000',
        instance: '127.0.0.1:8000',
        label: '127.0.0.1:8000',
      },
      source: { mode: 'attached' as const, url: 'http://127.0.0.1:8000', connected: false, stale: true },
    };
    expect(sourceView('s1', fresh, true, false)).toMatchObject({
      status: 'connecting',
      identified: false,
      why: 'no answer yet: connecting',
    });
  });

  it('routes to a live daemon of the action’s own cluster, the leader first', () => {
    const sources = [
      ...['pg0', 'pg1', 'pg2'].map((m) => daemonStore(daemonView('a', m))),
      daemonStore(daemonView('b', 'pg1'), { live: false, lastError: 'connect ECONNREFUSED' }),
      ...['pg0', 'pg2'].map((m) => daemonStore(daemonView('b', m))),
    ].map((s, i) => sourceView(`s${i}`, s.getSnapshot(), true, false));
    const groups = groupEntities(sources, MODULES);
    expect(groups.map((g) => `${g.key}:${g.sources.length}`)).toEqual(['failover:a:3', 'failover:b:3']);
    const plan = { entity: 'failover:b', target: 'cluster b', action: 'switchover', args: {} };
    const toA = routeAction({ ...plan, entity: 'failover:a' }, groups, MODULES);
    expect(typeof toA === 'string' ? toA : toA.snapshot.identity.instance).toBe('a/pg1');
    const toB = routeAction(plan, groups, MODULES);
    expect(typeof toB === 'string' ? toB : toB.snapshot.identity.instance).toMatch(/^b\/pg[02]$/);
    const none = routeAction({ ...plan, entity: 'failover:c' }, groups, MODULES);
    expect(none).toBe('cluster b is not shown by any source');
  });
});

describe('views, names and keys', () => {
  const views = viewCatalog(MODULES);

  it('numbers the views in module order and knows their names and the prompt commands', () => {
    expect(views.map((v) => v.id)).toEqual([
      'overview',
      'failover',
      'history',
      'citus',
      'pgclusters',
      'autoscaler',
      'lab',
      'events',
    ]);
    expect(promptTarget(views, 'fo')).toMatchObject({ kind: 'view', view: { id: 'failover' } });
    expect(promptTarget(views, 'q')).toEqual({ kind: 'quit' });
    expect(promptTarget(views, 'help')).toEqual({ kind: 'help' });
    expect(promptTarget(views, 'nope')).toBeUndefined();
    expect(completePrompt(views, 'hi')).toBe('history');
    expect(completePrompt(views, 'he')).toBe('help');
  });

  it('no sort letter is taken by another key, and each table’s letters are distinct', () => {
    const taken = new Set([
      ...SHARED_KEYS.flatMap((b) => b.keys),
      ...MODULES.flatMap((m) => m.commands.flatMap((c) => c.keys)),
    ]);
    for (const columns of [memberColumns(true), historyColumns(true), eventColumns, entityColumns, sourceColumns]) {
      const letters = columns.flatMap((c) => (c.sortKey === undefined ? [] : [c.sortKey]));
      expect(new Set(letters).size).toBe(letters.length);
      for (const l of letters) {
        expect(l).toMatch(/^[A-Z]$/);
        expect(taken.has(l)).toBe(false);
      }
    }
  });
});
