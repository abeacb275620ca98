import { memo } from 'react';
import { Box, Text } from 'ink';
import { fit } from '../rows/event-rows.js';
import { historyDetail, type HistoryRow } from '../rows/failover-rows.js';
import { windowStart } from '../rows/window.js';

/** The flight recorder: each failover and switchover; enter opens the selected one's detail. */
function HistoryViewImpl({
  rows,
  selected,
  detail,
  height,
}: {
  rows: readonly HistoryRow[];
  selected: number;
  detail: boolean;
  height: number;
}) {
  const chosen = rows[selected];
  if (detail && chosen !== undefined) {
    return (
      <Box flexDirection="column" height={height} borderStyle="round" borderColor="cyan" paddingX={1}>
        {historyDetail(chosen.entry).map((line, i) => (
          <Text key={i} wrap="truncate">
            {line}
          </Text>
        ))}
      </Box>
    );
  }
  const visible = Math.max(1, height - 1);
  const offset = windowStart(rows.length, selected, visible);
  return (
    <Box flexDirection="column" height={height}>
      <Text bold color="cyan" wrap="truncate">
        {'  '}
        {fit('WHEN', 10)}
        {fit('KIND', 16)}
        {fit('CHANGE', 14)}
        {fit('FIRST WRITE', 12)}
        {fit('LOST', 9)}
        {fit('OUTCOME', 12)}
        SIGNAL
      </Text>
      {rows.length === 0 ? <Text color="gray">no failover or switchover recorded yet</Text> : null}
      {rows.slice(offset, offset + visible).map((r, i) => (
        <Text key={r.key} wrap="truncate" inverse={offset + i === selected}>
          {offset + i === selected ? '▶ ' : '  '}
          {fit(r.when, 10)}
          {fit(r.kind, 16)}
          {fit(r.change, 14)}
          {fit(r.firstWrite, 12)}
          {fit(r.lost, 9)}
          {fit(r.outcome, 12)}
          {r.signal}
        </Text>
      ))}
    </Box>
  );
}

export const HistoryView = memo(HistoryViewImpl);
