import { autoscalerAgent } from './autoscaler/index.js';
import { failoverAgent } from './failover/index.js';
import type { AnyAgentDefinition } from './kernel/agent.js';

/** Every agent pgdeck can run, by name. */
export const AGENTS: Readonly<Record<string, AnyAgentDefinition>> = {
  failover: failoverAgent,
  autoscaler: autoscalerAgent,
};
