import { stringify } from 'yaml';
import { redact } from '../agents/kernel/redact.js';
import type { LoadedConfig } from '../config.js';

/** The effective configuration with secrets masked, and where each set value came from. */
export function renderConfig(config: LoadedConfig, format: 'yaml' | 'json'): string {
  const effective = redact({ ...config.global, agents: { ...config.global.agents, ...config.agents } });
  const sources = Object.fromEntries([...config.sources.entries()].sort(([a], [b]) => a.localeCompare(b)));
  const doc = { config: effective, sources };
  return format === 'json' ? JSON.stringify(doc, null, 2) : stringify(doc);
}
