import { describe, expect, it } from 'vitest';
import { AGENTS } from '../../../src/agents/registry.js';
import { loadConfig } from '../../../src/config.js';
import { configErrorLines, yamlFile } from '../../cli/config-fixtures.js';

const operatorSection = (config: ReturnType<typeof loadConfig>): Record<string, unknown> =>
  (config.agents as Record<string, Record<string, unknown>>)['patroni-operator']!;

const load = (
  flags: Record<string, unknown>,
  argv: string[] = [],
  configFile?: string,
): ReturnType<typeof loadConfig> =>
  loadConfig({
    flags,
    env: {},
    definitions: AGENTS,
    agent: 'patroni-operator',
    argv,
    ...(configFile === undefined ? {} : { configFile }),
  });

describe('patroni-operator config: patroniApiAnnotation', () => {
  it('is off by default', () => {
    expect(operatorSection(load({}))['patroniApiAnnotation']).toBe(false);
  });

  it('is turned on by --patroni-api-annotation or the file key', () => {
    expect(operatorSection(load({ 'patroni-api-annotation': true }))['patroniApiAnnotation']).toBe(true);
    const file = yamlFile('agents:\n  patroni-operator:\n    patroniApiAnnotation: true\n');
    expect(operatorSection(load({}, [], file))['patroniApiAnnotation']).toBe(true);
  });

  it('a bad value is one line naming the key', () => {
    expect(
      configErrorLines(() => load({ 'patroni-api-annotation': false }, ['--patroni-api-annotation=maybe'])),
    ).toEqual([
      'config: agents.patroni-operator.patroniApiAnnotation (--patroni-api-annotation): expected true or false, got "maybe"',
    ]);
    const file = yamlFile('agents:\n  patroni-operator:\n    patroniApiAnnotation: sometimes\n');
    expect(configErrorLines(() => load({}, [], file))).toEqual([
      `config: agents.patroni-operator.patroniApiAnnotation (file ${file}): expected true or false, got "sometimes"`,
    ]);
  });
});
