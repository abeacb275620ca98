import { autoscalerCliOptions, autoscalerConfigSchema } from './autoscaler/config.js';
import { citusSyncCliOptions, citusSyncConfigSchema } from './citus-sync/config.js';
import { failoverCliOptions, failoverConfigSchema } from './failover/config.js';
import type { AgentSettings } from './kernel/agent.js';
import { operatorCliOptions, operatorConfigSchema } from './patroni-operator/config.js';

/**
 * Every agent's config schema and flags, by name, without its runtime: what loading the config and
 * the command line needs. `pgdeck attach` and `status` load only this; AGENTS (registry.ts), which
 * brings the client libraries, is imported when an agent runs in this process. Same names, same order.
 */
export const AGENT_SETTINGS: Readonly<Record<string, AgentSettings>> = {
  failover: { configSchema: failoverConfigSchema, cliOptions: failoverCliOptions },
  'citus-sync': { configSchema: citusSyncConfigSchema, cliOptions: citusSyncCliOptions },
  'patroni-operator': { configSchema: operatorConfigSchema, cliOptions: operatorCliOptions },
  autoscaler: { configSchema: autoscalerConfigSchema, cliOptions: autoscalerCliOptions },
};
