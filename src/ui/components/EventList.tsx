import { memo } from 'react';
import { Box, Text } from 'ink';
import { fit, type EventRow } from '../rows/event-rows.js';
import { severityColor } from '../theme.js';
import { windowStart } from '../rows/window.js';

export interface EventListProps {
  readonly rows: readonly EventRow[];
  readonly selected: number;
  readonly focused: boolean;
  readonly height: number;
}

const Row = memo(function Row({ row, selected }: { row: EventRow; selected: boolean }) {
  return (
    <Text inverse={selected} wrap="truncate">
      {selected ? '▶ ' : '  '}
      <Text color="gray">{row.time} </Text>
      {fit(row.agent, 12)}
      <Text color={severityColor[row.severity] ?? 'white'}>{fit(row.kind, 16)}</Text>
      {row.message}
    </Text>
  );
});

/** Every agent's journal, newest first, only the visible window rendered. */
function EventListView({ rows, selected, focused, height }: EventListProps) {
  const visible = Math.max(1, height - 1);
  const offset = windowStart(rows.length, selected, visible);
  return (
    <Box flexDirection="column" height={height}>
      <Text bold color={focused ? 'cyan' : 'gray'}>
        {'  '}EVENTS ({rows.length})
      </Text>
      {rows.slice(offset, offset + visible).map((row, i) => (
        <Row key={row.key} row={row} selected={focused && offset + i === selected} />
      ))}
    </Box>
  );
}

export const EventList = memo(EventListView);
