import { memo } from 'react';
import { Box, Text } from 'ink';
import type { AgentSnapshot } from '../../agents/kernel/snapshot.js';
import { fit } from '../rows/event-rows.js';
import { failoverStates, leaderLine, type MemberRow } from '../rows/failover-rows.js';
import { toneColor } from '../theme.js';
import { windowStart } from '../rows/window.js';

const columns: readonly [keyof MemberRow, string, number][] = [
  ['name', 'MEMBER', 14],
  ['role', 'ROLE', 13],
  ['state', 'STATE', 12],
  ['timeline', 'TL', 4],
  ['lsn', 'LSN', 14],
  ['lag', 'LAG', 11],
  ['lagSeconds', 'LAG S', 7],
  ['lastSeen', 'LAST SEEN', 10],
];

/** Members of every failover cluster: role, state, timeline, LSN, lag; the leader and its lease. */
function FailoverViewImpl({
  agents,
  rows,
  selected,
  height,
  now,
}: {
  agents: readonly AgentSnapshot[];
  rows: readonly MemberRow[];
  selected: number;
  height: number;
  now: number;
}) {
  const clusters = failoverStates(agents);
  const visible = Math.max(1, height - clusters.length - 1);
  const offset = windowStart(rows.length, selected, visible);
  return (
    <Box flexDirection="column" height={height}>
      {clusters.length === 0 ? (
        <Text color="gray">no failover agent: run `pgdeck --agent failover` and attach to it</Text>
      ) : null}
      {clusters.map(({ agent, state }) => (
        <Text
          key={agent.agent + (agent.source.url ?? '')}
          wrap="truncate"
          color={agent.source.stale ? 'gray' : 'white'}
        >
          {leaderLine(state, now)}
          {agent.source.stale ? ' (STALE)' : ''}
        </Text>
      ))}
      <Text bold color="cyan" wrap="truncate">
        {'  '}
        {columns.map(([, title, width]) => fit(title, width)).join('')}
      </Text>
      {rows.slice(offset, offset + visible).map((row, i) => (
        <Text key={row.key} wrap="truncate" inverse={offset + i === selected} color={toneColor[row.tone]}>
          {offset + i === selected ? '▶ ' : '  '}
          {columns.map(([field, , width]) => fit(String(row[field]), width)).join('')}
        </Text>
      ))}
    </Box>
  );
}

export const FailoverView = memo(FailoverViewImpl);
