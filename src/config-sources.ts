import type { CliOption } from './agents/kernel/agent.js';

/** Where a config value came from, for error messages and `config show`. */
export type Source = `flag --${string}` | `env ${string}` | `file ${string}` | 'default';

export interface EnvName {
  readonly env: string;
  readonly key: string;
  readonly type: 'string' | 'number' | 'boolean';
}

/**
 * Environment names pgdeck reads, including those existing deployments of the tools it replaces
 * already set (citus membership managers, the queue autoscaler, Kubernetes downward API).
 */
export const ENV_NAMES: readonly EnvName[] = [
  { env: 'PGDECK_LISTEN', key: 'listen', type: 'string' },
  { env: 'PGDECK_TOKEN', key: 'token', type: 'string' },
  { env: 'PGDECK_TOKEN_FILE', key: 'tokenFile', type: 'string' },
  { env: 'PGDECK_LOG_LEVEL', key: 'logLevel', type: 'string' },
  { env: 'PGDECK_READONLY', key: 'readonly', type: 'boolean' },
  { env: 'POD_NAMESPACE', key: 'kube.namespace', type: 'string' },
  { env: 'LABEL_SELECTOR', key: 'kube.labelSelector', type: 'string' },
  { env: 'CITUS_HOST', key: 'citus.host', type: 'string' },
  { env: 'POSTGRES_USER', key: 'citus.user', type: 'string' },
  { env: 'POSTGRES_PASSWORD', key: 'citus.password', type: 'string' },
  { env: 'POSTGRES_DB', key: 'citus.database', type: 'string' },
  { env: 'SCAN_INTERVAL_SECONDS', key: 'citus.scanIntervalSeconds', type: 'number' },
  { env: 'REDIS_HOST', key: 'redis.host', type: 'string' },
  { env: 'REDIS_PORT', key: 'redis.port', type: 'number' },
  { env: 'REDIS_STREAM', key: 'redis.stream', type: 'string' },
  { env: 'REDIS_CONSUMER_GROUP', key: 'redis.consumerGroup', type: 'string' },
  { env: 'OTTO_AGENT_IMAGE', key: 'autoscaler.agentImage', type: 'string' },
];

/** Global flags: flag name -> config key. */
export const GLOBAL_FLAGS: readonly CliOption[] = [
  {
    flag: 'listen',
    key: 'listen',
    type: 'string',
    describe: 'host:port the headless API listens on (loopback unless given)',
  },
  {
    flag: 'token-file',
    key: 'tokenFile',
    type: 'string',
    describe: 'file holding the API bearer token (or set PGDECK_TOKEN)',
  },
  { flag: 'log-level', key: 'logLevel', type: 'string', describe: 'debug | info | warn | error' },
  {
    flag: 'readonly',
    key: 'readonly',
    type: 'boolean',
    describe: 'hide and refuse every action that changes something',
  },
  { flag: 'context', key: 'kube.context', type: 'string', describe: 'kubeconfig context' },
  { flag: 'namespace', key: 'kube.namespace', type: 'string', describe: 'Kubernetes namespace (POD_NAMESPACE)' },
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

  /** The source of `key` or of the nearest parent that has one. */
  sourceOf(key: string): Source {
    for (let parts = key.split('.'); parts.length > 0; parts = parts.slice(0, -1)) {
      const found = this.sources.get(parts.join('.'));
      if (found !== undefined) return found;
    }
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
