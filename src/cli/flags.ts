import { readFileSync } from 'node:fs';
import type { Argv, Options } from 'yargs';
import type { AgentSettings, CliOption } from '../agents/kernel/agent.js';
import { checkoutFile } from '../checkout-file.js';

/**
 * yargs options for config options. Numbers stay untyped so that `--ttl two` reaches the schema as
 * typed ("expected a number, got "two"") instead of as NaN; strings and booleans are typed.
 */
export function yargsOptions(options: readonly CliOption[], group: string): Record<string, Options> {
  return Object.fromEntries(
    options
      .filter((o) => o.flag !== '')
      .map((o): [string, Options] => {
        const env = o.env === undefined || o.env.length === 0 ? '' : ` [env ${o.env.join(', ')}]`;
        const typed: Options =
          o.type === 'number'
            ? { requiresArg: true, describe: `${o.describe}${env} [number]` }
            : { type: o.type, describe: `${o.describe}${env}` };
        return [o.flag, { ...typed, group }];
      }),
  );
}

/** `--agent NAME`, every built agent's flags under its own heading */
export function addAgentOptions<T>(y: Argv<T>, definitions: Readonly<Record<string, AgentSettings>>): Argv<T> {
  let out = y.option('agent', {
    type: 'string',
    describe: `run one agent headless: ${Object.keys(definitions).join(', ') || '(none registered)'}`,
  }) as unknown as Argv<T>;
  for (const [name, definition] of Object.entries(definitions))
    out = out.options(yargsOptions(definition.cliOptions, `${name} agent options:`)) as unknown as Argv<T>;
  return out;
}

/** The version in package.json (beside `src/` and `dist/` alike). */
export function packageVersion(): string {
  const file = checkoutFile('package.json');
  if (file === undefined) return 'unknown';
  const text = readFileSync(file, 'utf8');
  return String((JSON.parse(text) as { version?: unknown }).version ?? 'unknown');
}
