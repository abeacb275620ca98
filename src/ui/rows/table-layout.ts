import type { Column, TableRow } from '../module.js';

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
 * when they do not fit, flexible columns give way first, then the widest, never below their title
 * (or 3 characters).
 */
export function columnWidths(columns: readonly Column[], rows: readonly TableRow[], width: number): number[] {
  const widths = columns.map((c, i) => {
    let w = c.title.length + 1;
    for (const r of rows) {
      const len = r.cells[i]?.length ?? 0;
      if (len > w) w = len;
    }
    return Math.min(w, c.max ?? Infinity);
  });
  const room = width - MARKER - Math.max(0, columns.length - 1);
  let over = widths.reduce((a, b) => a + b, 0) - room;
  const floor = columns.map((c, i) =>
    c.flex === true ? Math.min(widths[i]!, 3) : Math.min(widths[i]!, Math.max(3, c.title.length)),
  );
  for (let i = 0; i < columns.length && over > 0; i++) {
    if (columns[i]!.flex !== true) continue;
    const give = Math.min(over, widths[i]! - floor[i]!);
    widths[i]! -= give;
    over -= give;
  }
  while (over > 0) {
    let widest = -1;
    for (let i = 0; i < widths.length; i++)
      if (widths[i]! > floor[i]! && (widest === -1 || widths[i]! > widths[widest]!)) widest = i;
    if (widest === -1) break;
    widths[widest]! -= 1;
    over -= 1;
  }
  return widths;
}
