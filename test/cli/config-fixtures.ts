import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { AnyAgentDefinition } from '../../src/agents/kernel/agent.js';
import { PgdeckError } from '../../src/agents/kernel/errors.js';
import { ConfigError } from '../../src/config-issues.js';
import { counterAgent, counterConfigSchema } from '../fixtures/counter-agent.js';

/** The counter agent with flags and a strict section, as every agent declares them. */
export const counter: AnyAgentDefinition = {
  ...counterAgent,
  configSchema: counterConfigSchema.strict(),
  cliOptions: [
    { flag: 'step', key: 'step', type: 'number', describe: 'step', env: ['COUNTER_STEP'] },
    { flag: 'target', key: 'target', type: 'number', describe: 'target' },
  ],
};

/** A second agent: shares `--target` with the counter and owns `--other-start`. */
export const other: AnyAgentDefinition = {
  ...counter,
  name: 'other',
  cliOptions: [
    { flag: 'target', key: 'target', type: 'number', describe: 'target' },
    { flag: 'other-start', key: 'start', type: 'number', describe: 'start' },
  ],
};

export const definitions: Record<string, AnyAgentDefinition> = { counter, other };

export function yamlFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'pgdeck-config-')), 'pgdeck.yaml');
  writeFileSync(file, text);
  return file;
}

/** The lines of the config error `run` throws (it must throw one): every problem of a ConfigError, or the one. */
export function configErrorLines(run: () => unknown): readonly string[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(PgdeckError);
    expect((error as PgdeckError).kind).toBe('config');
    const lines = error instanceof ConfigError ? error.lines : [(error as PgdeckError).message];
    for (const line of lines) expect(line).not.toContain('\n');
    return lines;
  }
  throw new Error('expected a config error');
}
