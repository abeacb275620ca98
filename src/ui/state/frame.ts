import { sameData } from '../../agents/kernel/same-data.js';
import type { BannerLine, Column, TableRow } from '../module.js';
import type { ConsoleState } from './console-state.js';
import type { Screen, ScreenTable } from './screen.js';
import type { UiSnapshot } from './ui-store.js';

/** What one frame is drawn from: the store's snapshot, the UI state and the screen derived from both. */
export interface Frame {
  readonly ui: UiSnapshot;
  readonly state: ConsoleState;
  readonly screen: Screen;
}

/**
 * True when `b` draws exactly what `a` draws: the same view, banner, tables (every row's cells and
 * tone, since column widths come from all rows), selection, filter error, keys and header. Row data
 * that is not drawn is not compared: key presses derive their own screen from the store.
 */
export function sameFrame(a: Frame, b: Frame, headerText: (ui: UiSnapshot, screen: Screen) => string): boolean {
  const x = a.screen;
  const y = b.screen;
  return (
    a.state === b.state &&
    x.view === y.view &&
    x.focused === y.focused &&
    x.filterError === y.filterError &&
    sameList(x.commands, y.commands, (c, d) => c === d) &&
    sameList(x.banner, y.banner, sameBannerLine) &&
    sameList(x.tables, y.tables, sameTable) &&
    (a.ui.sources === b.ui.sources || headerText(a.ui, x) === headerText(b.ui, y))
  );
}

function sameList<T>(a: readonly T[], b: readonly T[], same: (x: T, y: T) => boolean): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!same(a[i]!, b[i]!)) return false;
  return true;
}

function sameBannerLine(a: BannerLine, b: BannerLine): boolean {
  return (
    a.key === b.key &&
    a.text === b.text &&
    a.tone === b.tone &&
    a.countdown?.until === b.countdown?.until &&
    a.countdown?.after === b.countdown?.after
  );
}

function sameTable(a: ScreenTable, b: ScreenTable): boolean {
  return (
    a.id === b.id &&
    a.title === b.title &&
    a.empty === b.empty &&
    a.maxRows === b.maxRows &&
    a.total === b.total &&
    a.selected === b.selected &&
    a.order?.column === b.order?.column &&
    a.order?.descending === b.order?.descending &&
    sameList(a.columns, b.columns, sameColumn) &&
    sameList(a.rows, b.rows, sameRow)
  );
}

function sameColumn(a: Column, b: Column): boolean {
  return sameData(a, b);
}

function sameRow(a: TableRow, b: TableRow): boolean {
  if (a === b) return true;
  if (a.tone !== b.tone || (a.instance === undefined) !== (b.instance === undefined)) return false;
  return sameList(a.cells, b.cells, (c, d) => c === d);
}
