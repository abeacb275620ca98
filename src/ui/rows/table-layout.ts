import type { Column, TableRow } from '../module.js';

/** A flexible column keeps this much before wide columns are left out. */
const FLEX_KEEPS = 24;

/** The selection marker before every row: `▶ ` or two spaces. */
export const MARKER = 2;

/** Cuts `text` to `width` characters, marking the cut with `…`, padded to the width. */
export function fit(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  if (width <= 0) return '';
  if (text.length > width) return `${text.slice(0, Math.max(0, width - 1))}…`;
  return align === 'right' ? text.padStart(width) : text.padEnd(width);
}

/**
 * Column widths from content: each column as wide as its widest cell or title (up to its `max`);
 * when they do not fit, flexible columns give way to 24 characters, then wide columns are left out
 * (width 0, from the right) and the flexible ones take back what that freed, then flexible columns give
 * way further, then the widest column, never below its title (or 3 characters).
 */
export function columnWidths(
  columns: readonly Column[],
  rows: readonly TableRow[],
  width: number,
  sorted?: number,
): number[] {
  const widths = columns.map((c, i) => {
    let w = c.title.length + (sorted === i ? 1 : 0);
    for (const r of rows) {
      const len = r.cells[i]?.length ?? 0;
      if (len > w) w = len;
    }
    return Math.min(w, c.max ?? Infinity);
  });
  const shown = (): number => widths.filter((w) => w > 0).length;
  const over = (): number => widths.reduce((a, b) => a + b, 0) - (width - MARKER - Math.max(0, shown() - 1));
  const floor = columns.map((c, i) =>
    c.flex === true ? Math.min(widths[i]!, 3) : Math.min(widths[i]!, Math.max(3, c.title.length)),
  );
  const shrinkFlex = (least: number): void => {
    for (let i = 0; i < columns.length && over() > 0; i++)
      if (columns[i]!.flex === true)
        widths[i]! -= Math.max(0, Math.min(over(), widths[i]! - Math.max(floor[i]!, least)));
  };
  const natural = [...widths];
  shrinkFlex(FLEX_KEEPS);
  let dropped = false;
  for (let i = columns.length - 1; i >= 0 && over() > 0; i--)
    if (columns[i]!.wide === true) {
      widths[i] = 0;
      dropped = true;
    }
  // the room a left-out column frees goes back to the flexible ones first
  if (dropped) for (let i = 0; i < columns.length; i++) if (columns[i]!.flex === true) widths[i] = natural[i]!;
  shrinkFlex(0);
  let left = over();
  while (left > 0) {
    let widest = -1;
    for (let i = 0; i < widths.length; i++)
      if (widths[i]! > floor[i]! && (widest === -1 || widths[i]! > widths[widest]!)) widest = i;
    if (widest === -1) break;
    widths[widest]! -= 1;
    left -= 1;
  }
  return widths;
}

/** A row's cells laid out: hidden columns (width 0) left out, one space between the others, no trailing blanks. */
export function layoutCells(
  cells: readonly string[],
  widths: readonly number[],
  aligns: readonly ('left' | 'right' | undefined)[],
): string {
  let last = widths.length - 1;
  while (last > 0 && widths[last] === 0) last--;
  let out = '';
  for (let i = 0; i <= last; i++) {
    const w = widths[i]!;
    if (w === 0) continue;
    const text = cells[i] ?? '';
    // The last column is not padded: trailing blanks cost Ink output work on every frame.
    const cell = i === last && aligns[i] !== 'right' && text.length <= w ? text : fit(text, w, aligns[i]);
    out += `${out === '' ? '' : ' '}${cell}`;
  }
  return out;
}
