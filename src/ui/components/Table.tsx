import { memo, useMemo, useRef } from 'react';
import { Box, Text } from 'ink';
import type { TableRow } from '../module.js';
import { columnWidths, layoutCells } from '../rows/table-layout.js';
import { windowStart } from '../rows/window.js';
import type { ScreenTable } from '../state/screen.js';
import { paintTone, usePaint } from '../theme.js';

interface Layout {
  readonly widths: readonly number[];
  readonly aligns: readonly ('left' | 'right')[];
}

const Row = memo(function Row({
  row,
  layout,
  selected,
  focused,
}: {
  row: TableRow;
  layout: Layout;
  selected: boolean;
  focused: boolean;
}) {
  const paint = usePaint();
  const marked = selected && focused;
  const cells = layoutCells(row.cells, layout.widths, layout.aligns);
  return (
    <Text wrap="truncate" inverse={marked} color={paintTone(paint, row.tone)}>
      {marked ? '▶ ' : '  '}
      {cells}
    </Text>
  );
});

/** Keeps the same layout object while the widths do not change, so memoised rows stay as they are. */
function useLayout(table: ScreenTable, width: number): Layout {
  const last = useRef<Layout | undefined>(undefined);
  return useMemo(() => {
    const widths = columnWidths(table.columns, table.rows, width, table.order?.column);
    const aligns = table.columns.map((c) => c.align ?? 'left');
    const prev = last.current;
    if (prev !== undefined && prev.widths.join() === widths.join() && prev.aligns.join() === aligns.join()) return prev;
    last.current = { widths, aligns };
    return last.current;
  }, [table.columns, table.rows, table.order, width]);
}

/**
 * Every view's table: column widths from content, cut cells marked with `…`, the sorted column
 * marked ↑/↓, and only the rows that fit rendered.
 */
function TableView({
  table,
  width,
  height,
  focused,
}: {
  table: ScreenTable;
  width: number;
  height: number;
  focused: boolean;
}) {
  const paint = usePaint();
  const layout = useLayout(table, width);
  const titled = table.title !== undefined;
  const visible = Math.max(0, height - 1 - (titled ? 1 : 0));
  const offset = windowStart(table.rows.length, table.selected, visible);
  const heading = layoutCells(
    table.columns.map((c, i) => `${c.title}${table.order?.column === i ? (table.order.descending ? '↓' : '↑') : ''}`),
    layout.widths,
    layout.aligns,
  );
  const count = table.rows.length === table.total ? '' : ` ${table.rows.length} of ${table.total}`;
  return (
    <Box flexDirection="column" height={height} flexShrink={0}>
      {titled ? (
        <Text bold wrap="truncate" color={paint(focused ? 'cyan' : 'gray')}>
          {`  ${table.title}${count}`}
        </Text>
      ) : null}
      <Text bold wrap="truncate" color={paint(focused ? 'cyan' : 'gray')}>
        {`  ${heading}`}
      </Text>
      {table.rows.length === 0 ? (
        <Text wrap="truncate" color={paint('gray')}>
          {`  ${table.total > 0 ? 'no rows match the filter' : table.empty}`}
        </Text>
      ) : null}
      {/* Keyed by screen line, not by row: when the window scrolls or new rows push in, each line's
          Text is updated in place instead of unmounted and mounted again (Ink and Yoga nodes). */}
      {table.rows.slice(offset, offset + visible).map((row, i) => (
        <Row key={i} row={row} layout={layout} selected={offset + i === table.selected} focused={focused} />
      ))}
    </Box>
  );
}

export const Table = memo(TableView);
