import { readFileSync } from 'node:fs';
import type { CliOption } from './agents/kernel/agent.js';
import { PgdeckError } from './agents/kernel/errors.js';
import { yaml } from './yaml-on-demand.js';

/** Where a config value came from, for error messages and `config show`. */
export type Source = `flag --${string}` | `env ${string}` | `file ${string}` | 'default';

/**
 * The global section's flags and environment names: only what every face uses. An option with
 * `flag: ''` is read from the environment only (a token never goes on a command line).
 */
export const GLOBAL_OPTIONS: readonly CliOption[] = [
  {
    flag: 'listen',
    key: 'listen',
    type: 'string',
    describe: 'host:port the headless API listens on (loopback unless given)',
    env: ['PGDECK_LISTEN'],
  },
  { flag: '', key: 'token', type: 'string', describe: 'API bearer token', env: ['PGDECK_TOKEN'], secret: true },
  {
    flag: 'token-file',
    key: 'tokenFile',
    type: 'string',
    describe: 'file holding the API bearer token (or set PGDECK_TOKEN)',
    env: ['PGDECK_TOKEN_FILE'],
  },
  {
    flag: 'log-level',
    key: 'logLevel',
    type: 'string',
    describe: 'debug | info | warn | error | silent',
    env: ['PGDECK_LOG_LEVEL'],
  },
  {
    flag: 'readonly',
    key: 'readonly',
    type: 'boolean',
    describe: 'hide and refuse every action that changes something',
    env: ['PGDECK_READONLY'],
  },
  { flag: 'context', key: 'kube.context', type: 'string', describe: 'kubeconfig context', env: ['PGDECK_CONTEXT'] },
  {
    flag: 'namespace',
    key: 'kube.namespace',
    type: 'string',
    describe: 'Kubernetes namespace',
    env: ['PGDECK_NAMESPACE', 'POD_NAMESPACE'],
  },
  {
    flag: 'color',
    key: 'color',
    type: 'boolean',
    describe: 'colors in the console (--no-color or NO_COLOR=1 turns them off)',
    env: ['PGDECK_COLOR'],
  },
];

/** Variables whose mere presence (non-empty) sets a key, as https://no-color.org asks of NO_COLOR. */
export const PRESENCE_ENV: readonly { readonly env: string; readonly key: string; readonly value: unknown }[] = [
  { env: 'NO_COLOR', key: 'color', value: false },
];

/** A tree of plain values, and where each leaf came from. */
export class Layered {
  readonly value: Record<string, unknown> = {};
  readonly sources = new Map<string, Source>();

  set(key: string, value: unknown, source: Source): void {
    const parts = key.split('.');
    let node = this.value;
    for (const part of parts.slice(0, -1)) {
      const next = node[part];
      node = (node[part] = typeof next === 'object' && next !== null && !Array.isArray(next) ? next : {}) as Record<
        string,
        unknown
      >;
    }
    node[parts[parts.length - 1]!] = value;
    this.sources.set(key, source);
  }

  /** Makes `key` an empty object unless it is one, without recording a source (an agent run with defaults). */
  ensureObject(key: string): void {
    const current = this.get(key);
    if (typeof current === 'object' && current !== null && !Array.isArray(current)) return;
    this.set(key, {}, 'default');
    this.sources.delete(key);
  }

  /** Sets every leaf of a plain object (a YAML file) under `prefix`. */
  setTree(tree: Record<string, unknown>, source: Source, prefix = ''): void {
    for (const [k, v] of Object.entries(tree)) {
      const key = prefix === '' ? k : `${prefix}.${k}`;
      if (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length > 0)
        this.setTree(v as Record<string, unknown>, source, key);
      else this.set(key, v, source);
    }
  }

  get(key: string): unknown {
    return key
      .split('.')
      .reduce<unknown>(
        (node, part) =>
          typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[part] : undefined,
        this.value,
      );
  }

  /** The source of `key`, of the nearest parent that has one, or else of the first value under it. */
  sourceOf(key: string): Source {
    for (let parts = key.split('.'); parts.length > 0; parts = parts.slice(0, -1)) {
      const found = this.sources.get(parts.join('.'));
      if (found !== undefined) return found;
    }
    for (const [k, source] of this.sources) if (k.startsWith(`${key}.`)) return source;
    return 'default';
  }
}

/** Turns a flag or environment string into the option's type; a bad string is kept for the schema to name. */
export function coerce(raw: unknown, type: 'string' | 'number' | 'boolean'): unknown {
  if (typeof raw !== 'string') return raw;
  if (type === 'number') return raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
  if (type === 'boolean') {
    if (/^(1|true|yes|on)$/i.test(raw)) return true;
    if (/^(0|false|no|off)$/i.test(raw)) return false;
  }
  return raw;
}

/** `failover-timeout` -> `failoverTimeout`, the second name yargs gives a flag. */
export function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** The YAML config file as a plain mapping; an unreadable or malformed file is one line naming it. */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new PgdeckError('config', `config: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  let doc: unknown;
  try {
    doc = yaml().parse(text);
  } catch (error) {
    throw new PgdeckError(
      'config',
      `config: ${path} is not valid YAML: ${String((error as Error).message).split('\n')[0]}`,
    );
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc))
    throw new PgdeckError('config', `config: ${path} must be a YAML mapping of keys to values`);
  return doc as Record<string, unknown>;
}
