import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { AnyAgentDefinition, CliOption } from './agents/kernel/agent.js';
import { PgdeckError } from './agents/kernel/errors.js';
import { MASK, isSecretKey } from './agents/kernel/redact.js';
import type { SchemaIssue } from './agents/kernel/schema.js';
import { ENV_NAMES, GLOBAL_FLAGS, Layered, coerce, type Source } from './config-sources.js';

const hostPort = z.string().regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'expected host:port');
const port = z
  .number({ error: 'expected a number from 1 to 65535' })
  .int()
  .min(1, 'expected a number from 1 to 65535')
  .max(65535, 'expected a number from 1 to 65535');

export const globalSchema = z.strictObject({
  listen: hostPort.prefault('127.0.0.1:8008'),
  token: z.string().min(16, 'must be at least 16 characters').optional(),
  tokenFile: z.string().optional(),
  logLevel: z.enum(['debug', 'info', 'warn', 'error', 'silent']).prefault('info'),
  readonly: z.boolean({ error: 'expected true or false' }).prefault(false),
  kube: z
    .strictObject({
      context: z.string().optional(),
      namespace: z
        .string()
        .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'expected a DNS-1123 label')
        .prefault('default'),
      labelSelector: z.string().optional(),
    })
    .prefault({}),
  citus: z
    .strictObject({
      host: z.string().min(1).optional(),
      port: port.prefault(5432),
      user: z.string().min(1).prefault('postgres'),
      password: z.string().optional(),
      database: z.string().min(1).prefault('postgres'),
      scanIntervalSeconds: z
        .number({ error: 'expected a number of seconds' })
        .positive('expected a positive number of seconds')
        .prefault(10),
    })
    .prefault({}),
  redis: z
    .strictObject({
      host: z.string().min(1).prefault('127.0.0.1'),
      port: port.prefault(6379),
      stream: z.string().min(1).prefault('scale-events'),
      consumerGroup: z.string().min(1).prefault('pgdeck-autoscaler'),
    })
    .prefault({}),
  autoscaler: z.strictObject({ agentImage: z.string().min(1).optional() }).prefault({}),
  attach: z.array(z.url({ error: 'expected an http(s) URL' })).prefault([]),
  agents: z.record(z.string(), z.record(z.string(), z.unknown())).prefault({}),
});

export type GlobalConfig = z.infer<typeof globalSchema>;

export interface LoadedConfig {
  readonly global: GlobalConfig;
  /** The bearer token from `token` or `tokenFile`, if any. */
  readonly token: string | undefined;
  /** Each configured (or requested) agent's validated config. */
  readonly agents: Readonly<Record<string, unknown>>;
  readonly sources: ReadonlyMap<string, Source>;
  readonly file: string | undefined;
}

export interface LoadInput {
  /** Parsed flags, camelCase or kebab-case keys as yargs gives them. */
  readonly flags: Readonly<Record<string, unknown>>;
  readonly env: NodeJS.ProcessEnv;
  readonly configFile?: string;
  readonly definitions: Readonly<Record<string, AnyAgentDefinition>>;
  /** Agents to validate even when the file does not mention them (the one `--agent` runs). */
  readonly want?: readonly string[];
}

/** flags > environment > YAML file > defaults; every error is one line naming the key. */
export function loadConfig(input: LoadInput): LoadedConfig {
  const layers = new Layered();
  if (input.configFile !== undefined) layers.setTree(readConfigFile(input.configFile), `file ${input.configFile}`);
  applyOptions(
    layers,
    '',
    ENV_NAMES.map((e) => ({ flag: '', key: e.key, type: e.type, describe: '', env: [e.env] })),
    input,
  );
  applyOptions(layers, '', GLOBAL_FLAGS, input);
  const fileAgents = Object.keys((layers.get('agents') as Record<string, unknown> | undefined) ?? {});
  for (const name of fileAgents)
    if (!Object.hasOwn(input.definitions, name))
      throw configError(
        `agents.${name}`,
        layers.sourceOf(`agents.${name}`),
        `unknown agent; known agents: ${Object.keys(input.definitions).join(', ') || '(none)'}`,
      );
  const names = [...new Set([...fileAgents, ...(input.want ?? [])])];
  for (const name of names) applyOptions(layers, `agents.${name}`, input.definitions[name]?.cliOptions ?? [], input);
  if (names.length > 0 && layers.get('agents') === undefined) layers.set('agents', {}, 'default');
  for (const name of names) if (layers.get(`agents.${name}`) === undefined) layers.set(`agents.${name}`, {}, 'default');

  const parsed = globalSchema.safeParse(layers.value);
  if (!parsed.success) throw fromIssues(parsed.error.issues, '', layers);
  const agents: Record<string, unknown> = {};
  for (const name of names) {
    const result = input.definitions[name]!.configSchema.safeParse(parsed.data.agents[name] ?? {});
    if (!result.success) throw fromIssues(result.error.issues, `agents.${name}`, layers);
    agents[name] = result.data;
  }
  return {
    global: parsed.data,
    token: resolveToken(parsed.data, layers),
    agents,
    sources: layers.sources,
    file: input.configFile,
  };
}

function applyOptions(layers: Layered, prefix: string, options: readonly CliOption[], input: LoadInput): void {
  const key = (o: CliOption): string => (prefix === '' ? o.key : `${prefix}.${o.key}`);
  for (const o of options) {
    const env = o.env?.find((name) => input.env[name] !== undefined && input.env[name] !== '');
    if (env !== undefined) layers.set(key(o), coerce(input.env[env], o.type), `env ${env}`);
  }
  for (const o of options) {
    if (o.flag === '') continue;
    const raw = input.flags[o.flag] ?? input.flags[camel(o.flag)];
    if (raw !== undefined) layers.set(key(o), coerce(raw, o.type), `flag --${o.flag}`);
  }
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new PgdeckError('config', `config: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
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

function resolveToken(config: GlobalConfig, layers: Layered): string | undefined {
  if (config.token !== undefined) return config.token;
  if (config.tokenFile === undefined) return undefined;
  let token: string;
  try {
    token = readFileSync(config.tokenFile, 'utf8').trim();
  } catch {
    throw configError('tokenFile', layers.sourceOf('tokenFile'), `cannot read ${config.tokenFile}`);
  }
  if (token.length < 16)
    throw configError('tokenFile', layers.sourceOf('tokenFile'), 'the token in it must be at least 16 characters');
  return token;
}

function fromIssues(issues: readonly SchemaIssue[], prefix: string, layers: Layered): PgdeckError {
  const issue = issues[0];
  const path = [prefix, ...(issue?.path ?? []).map(String)].filter((p) => p !== '').join('.');
  const unknown = (issue as { keys?: string[] } | undefined)?.keys;
  const key =
    unknown !== undefined && unknown.length > 0
      ? [path, unknown[0]].filter((p) => p !== '').join('.')
      : path || '(root)';
  const source = layers.sourceOf(key);
  const raw = isSecretKey(key.split('.').pop() ?? key) ? MASK : layers.get(key);
  const got =
    unknown !== undefined
      ? 'unknown key'
      : `${(issue?.message ?? 'invalid value').replace(/^Invalid input: /, '')}${raw === undefined ? '' : `, got ${JSON.stringify(raw)}`}`;
  return configError(key, source, got);
}

function configError(key: string, source: Source, message: string): PgdeckError {
  const where = source === 'default' ? '' : ` (${source.replace(/^flag /, '').replace(/^env /, '')})`;
  return new PgdeckError('config', `config: ${key}${where}: ${message}`, { field: key });
}

function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}
