import { Box } from 'ink';
import type { AgentSnapshot } from '../../agents/kernel/snapshot.js';
import { AgentTable } from '../components/AgentTable.js';
import { EventList } from '../components/EventList.js';
import { agentRows } from '../rows/agent-rows.js';
import type { EventRow } from '../rows/event-rows.js';

export interface OverviewProps {
  readonly agents: readonly AgentSnapshot[];
  readonly events: readonly EventRow[];
  readonly pane: 'agents' | 'events';
  readonly cursor: { readonly agents: number; readonly events: number };
  readonly width: number;
  readonly height: number;
}

/** One line per agent (health, source, last decision) above every agent's recent events. */
export function OverviewView({ agents, events, pane, cursor, width, height }: OverviewProps) {
  const agentHeight = Math.min(Math.max(2, agents.length + 1), Math.max(2, Math.floor(height / 3)));
  return (
    <Box flexDirection="column" height={height}>
      <AgentTable
        rows={agentRows(agents)}
        selected={cursor.agents}
        focused={pane === 'agents'}
        width={width}
        height={agentHeight}
      />
      <Box height={1} />
      <EventList rows={events} selected={cursor.events} focused={pane === 'events'} height={height - agentHeight - 1} />
    </Box>
  );
}
