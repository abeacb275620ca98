import { citusSyncAgent } from './citus-sync/index.js';
import { autoscalerAgent } from './autoscaler/index.js';
import { failoverAgent } from './failover/index.js';
import type { AnyAgentDefinition } from './kernel/agent.js';
import { patroniOperatorAgent } from './patroni-operator/index.js';

/** Every agent pgdeck can run, by name. */
export const AGENTS: Readonly<Record<string, AnyAgentDefinition>> = {
  failover: failoverAgent,
  'citus-sync': citusSyncAgent,
  'patroni-operator': patroniOperatorAgent,
  autoscaler: autoscalerAgent,
};
