import type { AgentSettings, CliOption } from './agents/kernel/agent.js';
import { camel } from './config-sources.js';

/**
 * Keys of the old global schema whose settings moved into a built agent's section, by agent: an
 * unknown-key error names the section they belong to now.
 */
export const FORMER_KEYS: Readonly<Record<string, readonly string[]>> = {
  'citus-sync': ['citus', 'kube.labelSelector'],
  autoscaler: ['redis', 'autoscaler'],
};

/** The agent whose section a key of the old global schema belongs to now. */
export function formerOwner(key: string): string | undefined {
  return Object.entries(FORMER_KEYS).find(([, keys]) => keys.includes(key))?.[0];
}

/** Every agent's flags, by agent. */
export function knownAgentOptions(
  definitions: Readonly<Record<string, AgentSettings>>,
): ReadonlyMap<string, readonly CliOption[]> {
  const out = new Map<string, readonly CliOption[]>();
  for (const [name, d] of Object.entries(definitions)) out.set(name, d.cliOptions);
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
    else
      problems.push(
        `${of}, which is not configured: run it with --agent ${names[0]}, or add agents.${names[0]} to the config file`,
      );
  }
  return problems;
}
