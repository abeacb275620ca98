import { describe, expect, it } from 'vitest';
import { AGENTS } from '../../src/agents/registry.js';
import { AGENT_SETTINGS } from '../../src/agents/settings.js';

describe('AGENT_SETTINGS: the config side of AGENTS, without the agents runtime', () => {
  it('names the same agents in the same order', () => {
    expect(Object.keys(AGENT_SETTINGS)).toEqual(Object.keys(AGENTS));
  });

  it.each(Object.keys(AGENTS))('%s: the very schema and flags its definition declares', (name) => {
    expect(AGENT_SETTINGS[name]!.configSchema).toBe(AGENTS[name]!.configSchema);
    expect(AGENT_SETTINGS[name]!.cliOptions).toBe(AGENTS[name]!.cliOptions);
  });
});
