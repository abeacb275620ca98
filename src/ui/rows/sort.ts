import type { TableRow } from '../module.js';

export interface SortOrder {
  readonly column: number;
  readonly descending: boolean;
}

function valueOf(row: TableRow, column: number): string | number | null {
  const sorted = row.sort?.[column];
  return sorted === undefined ? (row.cells[column] ?? '') : sorted;
}

function compare(a: string | number | null, b: string | number | null): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}

/** Rows by one column (its sort values where the row has them, else its text); unknown values last either way. */
export function sortRows(rows: readonly TableRow[], order: SortOrder | undefined): readonly TableRow[] {
  if (order === undefined) return rows;
  const sign = order.descending ? -1 : 1;
  return [...rows].sort((x, y) => {
    const a = valueOf(x, order.column);
    const b = valueOf(y, order.column);
    if (a === null || b === null) return compare(a, b);
    return sign * compare(a, b);
  });
}
