import type { TableRow } from '../module.js';

export type RowFilter =
  { readonly ok: true; readonly test: (text: string) => boolean } | { readonly ok: false; readonly error: string };

/** `/pattern` as k9s reads it: a case-insensitive regex; a leading `!` keeps the rows that do not match. */
export function parseFilter(pattern: string): RowFilter {
  const invert = pattern.startsWith('!');
  const source = invert ? pattern.slice(1) : pattern;
  if (source === '') return { ok: true, test: () => true };
  try {
    const regex = new RegExp(source, 'i');
    return { ok: true, test: (text) => regex.test(text) !== invert };
  } catch (error) {
    return { ok: false, error: `bad filter /${pattern}: ${(error as Error).message}` };
  }
}

/** The rows whose cells (or instance) match; all rows when the filter is empty or bad. */
export function filterRows(rows: readonly TableRow[], filter: RowFilter, pattern: string): readonly TableRow[] {
  if (!filter.ok || pattern === '' || pattern === '!') return rows;
  return rows.filter((r) => filter.test(`${r.cells.join(' ')} ${r.instance ?? ''}`));
}
