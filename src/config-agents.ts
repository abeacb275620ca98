import type { AnyAgentDefinition, CliOption } from './agents/kernel/agent.js';
import { camel } from './config-sources.js';

/** An agent that is planned but not built: the flags and environment names it will own. */
export interface PlannedAgent {
  readonly cliOptions: readonly CliOption[];
  /** Keys of the old global schema whose settings now belong to this agent's section. */
  readonly formerKeys: readonly string[];
}

/**
 * The replaced tools' environment names, mapped into the section of the agent that will read
 * them. When an agent is built, its rows move into its own `cliOptions` and leave this table.
 */
export const PLANNED_AGENTS: Readonly<Record<string, PlannedAgent>> = {
  'citus-sync': {
    formerKeys: ['citus', 'kube.labelSelector'],
    cliOptions: [
      { flag: 'citus-host', key: 'host', type: 'string', describe: 'Citus coordinator host', env: ['CITUS_HOST'] },
      { flag: 'citus-port', key: 'port', type: 'number', describe: 'Citus coordinator port' },
      { flag: 'citus-user', key: 'user', type: 'string', describe: 'PostgreSQL user', env: ['POSTGRES_USER'] },
      {
        flag: '',
        key: 'password',
        type: 'string',
        describe: 'PostgreSQL password',
        env: ['POSTGRES_PASSWORD'],
        secret: true,
      },
      { flag: 'citus-database', key: 'database', type: 'string', describe: 'database', env: ['POSTGRES_DB'] },
      {
        flag: 'label-selector',
        key: 'labelSelector',
        type: 'string',
        describe: 'label selector of the worker pods',
        env: ['LABEL_SELECTOR'],
      },
      {
        flag: 'scan-interval',
        key: 'scanIntervalSeconds',
        type: 'number',
        describe: 'seconds between scans',
        env: ['SCAN_INTERVAL_SECONDS'],
      },
    ],
  },
};

/** Keys of the old global schema whose settings now belong to a built agent's section. */
export const FORMER_KEYS: Readonly<Record<string, string>> = { redis: 'autoscaler', autoscaler: 'autoscaler' };

/** The agent whose section holds what the old global key `key` held, if any. */
export function formerOwner(key: string): string | undefined {
  return FORMER_KEYS[key] ?? Object.entries(PLANNED_AGENTS).find(([, p]) => p.formerKeys.includes(key))?.[0];
}

/** Every agent whose flags pgdeck knows: the built ones and, for those not built yet, the planned table. */
export function knownAgentOptions(
  definitions: Readonly<Record<string, AnyAgentDefinition>>,
): ReadonlyMap<string, readonly CliOption[]> {
  const out = new Map<string, readonly CliOption[]>();
  for (const [name, d] of Object.entries(definitions)) out.set(name, d.cliOptions);
  for (const [name, p] of Object.entries(PLANNED_AGENTS)) if (!out.has(name)) out.set(name, p.cliOptions);
  return out;
}

/** The value of a flag as yargs parsed it (kebab or camel name), if given. */
export function flagValue(flags: Readonly<Record<string, unknown>>, flag: string): unknown {
  return flags[flag] ?? flags[camel(flag)];
}

/**
 * A given agent flag goes to the one running agent that declares it (`running`: the one `--agent`
 * runs, named by `headless`, or the configured ones in the console); a flag of any other agent, or
 * of several running ones, is a problem line naming it.
 */
export function agentFlagProblems(
  flags: Readonly<Record<string, unknown>>,
  known: ReadonlyMap<string, readonly CliOption[]>,
  running: readonly string[],
  headless: string | undefined,
  built: (name: string) => boolean,
): string[] {
  const owners = new Map<string, string[]>();
  for (const [name, options] of known)
    for (const o of options)
      if (o.flag !== '' && flagValue(flags, o.flag) !== undefined)
        owners.set(o.flag, [...(owners.get(o.flag) ?? []), name]);
  const problems: string[] = [];
  for (const [flag, names] of owners) {
    const here = names.filter((n) => running.includes(n));
    if (here.length === 1) continue;
    const of = `--${flag} is a flag of the ${names.join(' and ')} agent${names.length > 1 ? 's' : ''}`;
    if (here.length > 1) problems.push(`${of}; set it under agents.NAME in the config file to say which one`);
    else if (headless !== undefined) problems.push(`${of}, not of ${headless}`);
    else if (!names.some(built)) problems.push(`${of}, which is not built yet`);
    else
      problems.push(
        `${of}, which is not configured: run it with --agent ${names.find(built)}, or add agents.${names.find(built)} to the config file`,
      );
  }
  return problems;
}
