import { createContext } from 'react';
import type { ActionPreview, AgentControl, AgentSnapshot } from '../../agents/kernel/snapshot.js';
import type { FailoverState } from '../../agents/failover/types.js';
import type { AgentCommand } from '../keys/keymap.js';

/** Controls of the agents by name: the one way the console changes anything. */
export const ActionsContext = createContext<ReadonlyMap<string, AgentControl>>(new Map());

export interface PlannedAction {
  readonly agent: string;
  readonly action: string;
  readonly args: Record<string, unknown>;
}

export interface PendingAction extends PlannedAction {
  readonly preview: ActionPreview;
}

const actionNames: Record<AgentCommand, readonly string[]> = {
  failover: ['failover'],
  switchover: ['switchover'],
  pause: ['pause', 'resume'],
  reinit: ['reinit'],
  'scale-up': ['scale'],
  'scale-down': ['scale'],
  lab: ['lab-setup'],
};

export function isAgentCommand(command: string): command is AgentCommand {
  return Object.hasOwn(actionNames, command);
}

/** The first agent offering the action behind `command`, if any. */
export function offeringAgent(agents: readonly AgentSnapshot[], command: AgentCommand): AgentSnapshot | undefined {
  return agents.find((a) => a.actions.some((x) => actionNames[command].includes(x.name)));
}

/**
 * Which action, on which agent, with which arguments a key means here: the selected member is the
 * candidate or target; `p` resumes when failover is paused. A string is a reason it cannot run.
 */
export function planAction(
  agents: readonly AgentSnapshot[],
  command: AgentCommand,
  selectedMember: string | undefined,
): PlannedAction | string {
  const agent = offeringAgent(agents, command);
  if (agent === undefined) return `no agent offers ${command}`;
  const state = agent.state as Partial<FailoverState> | undefined;
  const member = state?.members?.find((m) => m.name === selectedMember);
  switch (command) {
    case 'failover':
      if (member === undefined || member.role === 'primary')
        return 'select a replica in the Failover view (2) to fail over to';
      return { agent: agent.agent, action: 'failover', args: { candidate: member.name } };
    case 'switchover':
      return {
        agent: agent.agent,
        action: 'switchover',
        args: member !== undefined && member.role !== 'primary' ? { candidate: member.name } : {},
      };
    case 'pause':
      return { agent: agent.agent, action: state?.config?.paused === true ? 'resume' : 'pause', args: {} };
    case 'reinit':
      if (member === undefined || member.role === 'primary')
        return 'select a replica in the Failover view (2) to reinit';
      return { agent: agent.agent, action: 'reinit', args: { member: member.name } };
    case 'scale-up':
      return { agent: agent.agent, action: 'scale', args: { delta: 1 } };
    case 'scale-down':
      return { agent: agent.agent, action: 'scale', args: { delta: -1 } };
    case 'lab':
      return { agent: agent.agent, action: 'lab-setup', args: {} };
    default: {
      const unreachable: never = command;
      return unreachable;
    }
  }
}
