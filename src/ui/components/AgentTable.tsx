import { memo } from 'react';
import { Box, Text } from 'ink';
import type { AgentRow } from '../rows/agent-rows.js';
import { fit } from '../rows/event-rows.js';
import { toneColor } from '../theme.js';
import { windowStart } from '../rows/window.js';

export interface AgentTableProps {
  readonly rows: readonly AgentRow[];
  readonly selected: number;
  readonly focused: boolean;
  readonly width: number;
  readonly height: number;
}

const Row = memo(function Row({ row, selected, width }: { row: AgentRow; selected: boolean; width: number }) {
  const summaryWidth = Math.max(10, width - 2 - 16 - 22 - 10 - 6 - 4);
  return (
    <Text inverse={selected} wrap="truncate">
      {selected ? '▶ ' : '  '}
      {fit(row.name, 16)}
      {fit(row.source, 22)}
      <Text color={toneColor[row.tone]}>{fit(row.health, 10)}</Text>
      {fit(row.ready, 6)}
      {fit(row.summary, summaryWidth)}
    </Text>
  );
});

/** The agents: one row each, only the rows that fit are rendered. */
function AgentTableView({ rows, selected, focused, width, height }: AgentTableProps) {
  const visible = Math.max(1, height - 1);
  const offset = windowStart(rows.length, selected, visible);
  return (
    <Box flexDirection="column" height={height}>
      <Text bold color={focused ? 'cyan' : 'gray'} wrap="truncate">
        {'  '}
        {fit('AGENT', 16)}
        {fit('SOURCE', 22)}
        {fit('HEALTH', 10)}
        {fit('READY', 6)}
        SUMMARY
      </Text>
      {rows.length === 0 ? (
        <Text color="gray">no agents: configure `agents:` in the config file, or run `pgdeck attach URL...`</Text>
      ) : null}
      {rows.slice(offset, offset + visible).map((row, i) => (
        <Row key={row.key} row={row} selected={focused && offset + i === selected} width={width} />
      ))}
    </Box>
  );
}

export const AgentTable = memo(AgentTableView);
