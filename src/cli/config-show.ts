import { MASK, redact } from '../agents/kernel/redact.js';
import type { LoadedConfig } from '../config.js';
import { yaml } from '../yaml-on-demand.js';

/**
 * The effective configuration, section by section (global, then each running agent), with secrets
 * masked, and where each value that is not a default came from.
 */
export function renderConfig(config: LoadedConfig, format: 'yaml' | 'json'): string {
  const global = masked(
    { ...config.global, ...(config.token === undefined ? {} : { token: config.token }) },
    '',
    config,
  );
  const agents = Object.fromEntries(
    Object.entries(config.agents).map(([name, section]) => [name, masked(section, `agents.${name}`, config)]),
  );
  const sources = Object.fromEntries([...config.sources.entries()].sort(([a], [b]) => a.localeCompare(b)));
  const doc = { file: config.file ?? null, global, agents, sources };
  return format === 'json' ? JSON.stringify(doc, null, 2) : yaml().stringify(doc);
}

/** Masks keys named like secrets, and the keys whose options are declared secret. */
function masked(value: unknown, prefix: string, config: LoadedConfig): unknown {
  const declared = [...config.secrets].filter((k) =>
    prefix === '' ? !k.startsWith('agents.') : k.startsWith(`${prefix}.`),
  );
  const out = redact(structuredClone(value)) as Record<string, unknown>;
  for (const key of declared) {
    const parts = (prefix === '' ? key : key.slice(prefix.length + 1)).split('.');
    const parent = parts.slice(0, -1).reduce<unknown>((n, p) => (n as Record<string, unknown> | undefined)?.[p], out);
    const leaf = parts[parts.length - 1]!;
    if (typeof parent === 'object' && parent !== null && (parent as Record<string, unknown>)[leaf] !== undefined)
      (parent as Record<string, unknown>)[leaf] = MASK;
  }
  return out;
}
