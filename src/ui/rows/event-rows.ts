import { formatClock } from '../format.js';
import type { Column, TableRow, UiEvent } from '../module.js';
import { entityKey } from '../state/entities.js';
import { severityTone } from '../theme.js';

export interface EventData {
  readonly type: 'event';
  readonly event: UiEvent;
  /** How many identical consecutive events of its instance the row stands for (the newest shown). */
  readonly count: number;
  readonly first: UiEvent;
}

export const eventColumns: readonly Column[] = [
  { title: 'TIME', sortKey: 'T' },
  { title: 'SOURCE', sortKey: 'O', max: 24 },
  { title: 'KIND', sortKey: 'K', max: 20 },
  { title: 'MESSAGE', sortKey: 'M', flex: true },
];

interface Run {
  first: UiEvent;
  last: UiEvent;
  count: number;
}

const same = (a: UiEvent, b: UiEvent): boolean =>
  a.event.kind === b.event.kind && a.event.message === b.event.message && a.event.severity === b.event.severity;

/**
 * Events as rows, newest first, debug lines left out. Each instance's consecutive identical events
 * fold into one row with a count (`×12`), so idle daemons repeating their `decided` line take a row
 * each. `cache` (by the key of a run's first event) keeps unchanged rows the same objects across
 * calls, so memoised rows do not redraw.
 */
export function eventRows(
  events: readonly UiEvent[],
  severalEntities: boolean,
  cache: Map<string, TableRow> = new Map(),
): TableRow[] {
  const runs: Run[] = [];
  const open = new Map<string, Run>();
  for (const e of events) {
    if (e.event.severity === 'debug') continue;
    const run = open.get(e.instance);
    if (run !== undefined && same(run.last, e)) {
      run.last = e;
      run.count += 1;
      continue;
    }
    const next = { first: e, last: e, count: 1 };
    runs.push(next);
    open.set(e.instance, next);
  }
  runs.sort((a, b) => b.last.event.time - a.last.event.time);
  const rows: TableRow[] = new Array<TableRow>(runs.length);
  for (let i = 0; i < runs.length; i++) {
    const run = runs[i]!;
    const cached = cache.get(run.first.key);
    // The same first event and count: the same run (journals only grow), so the same row.
    if (cached !== undefined && (cached.data as EventData).count === run.count) rows[i] = cached;
    else cache.set(run.first.key, (rows[i] = eventRow(run, severalEntities)));
  }
  // Rows of events that left the window go when the cache holds twice what is shown.
  if (cache.size > 2 * rows.length + 64) {
    cache.clear();
    for (const row of rows) cache.set(row.key, row);
  }
  return rows;
}

function eventRow(run: Run, severalEntities: boolean): TableRow {
  const e = run.last;
  const data: EventData = { type: 'event', event: e, count: run.count, first: run.first };
  const source = severalEntities ? `${e.entity}/${e.label}` : e.label;
  return {
    key: run.first.key,
    entity: entityKey(e.kind, e.entity),
    instance: e.instance,
    tone: severityTone[e.event.severity] ?? 'plain',
    data,
    cells: [
      formatClock(e.event.time),
      source,
      e.event.kind,
      run.count > 1 ? `${e.event.message} ×${run.count}` : e.event.message,
    ],
    sort: [e.event.time, source, e.event.kind, e.event.message],
  };
}

/** Enter on an event: every field it carries. */
export function eventDetail(data: EventData): string[] {
  const e = data.event.event;
  const fields = Object.entries(e.fields ?? {}).map(
    ([k, v]) => `  ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`,
  );
  return [
    `${e.kind} (${e.severity}) from ${data.event.instance}, seq ${e.seq}`,
    `time: ${new Date(e.time).toISOString()}${data.count > 1 ? ` (×${data.count} since ${new Date(data.first.event.time).toISOString()})` : ''}`,
    `agent: ${data.event.kind}, entity ${data.event.entity}, source ${data.event.sourceId}`,
    `message: ${e.message}`,
    `fields:${fields.length === 0 ? ' none' : ''}`,
    ...fields,
  ];
}
