import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { AgentSettings, CliOption } from './agents/kernel/agent.js';
import { agentFlagProblems, flagValue, knownAgentOptions } from './config-agents.js';
import { ConfigError, issueLine, issueLines, type DetailedIssue } from './config-issues.js';
import { schemaPaths } from './config-keys.js';
import { GLOBAL_OPTIONS, Layered, PRESENCE_ENV, coerce, readConfigFile, type Source } from './config-sources.js';

const hostPort = z.string().regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'expected host:port');

/** Only what every face uses; each agent's settings live in its own section under `agents:`. */
export const globalSchema = z.strictObject({
  listen: hostPort.prefault('127.0.0.1:8008'),
  token: z.string().min(16, 'must be at least 16 characters').optional(),
  tokenFile: z.string().optional(),
  logLevel: z.enum(['debug', 'info', 'warn', 'error', 'silent']).prefault('info'),
  readonly: z.boolean().prefault(false),
  color: z.boolean().prefault(true),
  kube: z
    .strictObject({
      context: z.string().optional(),
      namespace: z
        .string()
        .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'expected a DNS-1123 label')
        .prefault('default'),
    })
    .prefault({}),
  attach: z.array(z.url({ error: 'expected an http(s) URL' })).prefault([]),
  agents: z.record(z.string(), z.record(z.string(), z.unknown())).prefault({}),
});

export type GlobalConfig = Omit<z.infer<typeof globalSchema>, 'agents'>;

export interface LoadedConfig {
  readonly global: GlobalConfig;
  /** The bearer token from `token` or `tokenFile`, if any. */
  readonly token: string | undefined;
  /** Each running agent's validated section: the one `--agent` runs, or the configured ones. */
  readonly agents: Readonly<Record<string, unknown>>;
  readonly sources: ReadonlyMap<string, Source>;
  /** Keys whose options are declared secret (masked beside every key named like a secret). */
  readonly secrets: ReadonlySet<string>;
  readonly file: string | undefined;
}

export interface LoadInput {
  /** Parsed flags, camelCase or kebab-case keys as yargs gives them. */
  readonly flags: Readonly<Record<string, unknown>>;
  readonly env: NodeJS.ProcessEnv;
  readonly configFile?: string;
  readonly definitions: Readonly<Record<string, AgentSettings>>;
  /** The agent `--agent` runs; without it, every agent configured under `agents:` runs. */
  readonly agent?: string;
  /** The command line as typed: `--flag=value` of a boolean flag is read from it (yargs turns `=maybe` into false). */
  readonly argv?: readonly string[];
}

/** flags > environment > YAML file > defaults; every problem is reported at once, one line each naming its key. */
export function loadConfig(input: LoadInput): LoadedConfig {
  const layers = new Layered();
  if (input.configFile !== undefined) layers.setTree(readConfigFile(input.configFile), `file ${input.configFile}`);
  applyOptions(layers, '', GLOBAL_OPTIONS, input);
  const built = (name: string): boolean => Object.hasOwn(input.definitions, name);
  const configured = Object.keys(asRecord(layers.get('agents')));
  const lines = configured.filter((name) => !built(name)).map((name) => unknownAgent(name, layers, input));
  if (input.agent !== undefined && !built(input.agent)) lines.push(unknownAgentFlag(input.agent, input));
  const running = input.agent === undefined ? configured.filter(built) : [input.agent].filter(built);
  lines.push(...agentFlagProblems(input.flags, knownAgentOptions(input.definitions), running, input.agent));
  const sections = [...new Set([...configured.filter(built), ...running])];
  const secrets = new Set(GLOBAL_OPTIONS.filter((o) => o.secret === true).map((o) => o.key));
  for (const name of sections) {
    if ((layers.get(`agents.${name}`) ?? null) === null) layers.ensureObject(`agents.${name}`);
    if (!running.includes(name)) continue;
    const options = input.definitions[name]!.cliOptions;
    applyOptions(layers, `agents.${name}`, options, input);
    for (const o of options) if (o.secret === true) secrets.add(`agents.${name}.${o.key}`);
  }
  const globalKnown = schemaPaths(globalSchema);
  const parsed = globalSchema.safeParse(layers.value);
  if (!parsed.success)
    lines.push(
      ...issueLines(parsed.error.issues, '', { layers, secrets, known: globalKnown, options: GLOBAL_OPTIONS }),
    );
  const agents: Record<string, unknown> = {};
  for (const name of sections) {
    const ctx = { layers, secrets, globalKnown, runs: running.includes(name) };
    const section = validateSection(name, input.definitions[name]!, ctx, lines);
    if (section !== undefined) agents[name] = section;
  }
  const token = parsed.success && lines.length === 0 ? resolveToken(parsed.data, layers, lines) : undefined;
  if (!parsed.success || lines.length > 0) throw new ConfigError(lines, fieldOf(lines[0]));
  const { agents: _sections, ...global } = parsed.data;
  return { global, token, agents, sources: layers.sources, secrets, file: input.configFile };
}

/**
 * One agent's section through its schema: the validated section when it runs and is valid. A
 * configured agent that does not run here is still held to its keys, not to the values it would need.
 */
function validateSection(
  name: string,
  definition: AgentSettings,
  ctx: { layers: Layered; secrets: ReadonlySet<string>; globalKnown: readonly string[]; runs: boolean },
  lines: string[],
): unknown {
  const prefix = `agents.${name}`;
  const section = ctx.layers.get(prefix);
  if (typeof section !== 'object' || section === null || Array.isArray(section)) return undefined;
  const result = definition.configSchema.safeParse(section);
  if (result.success) return ctx.runs ? result.data : undefined;
  const known = [
    ...schemaPaths(definition.configSchema, prefix),
    ...definition.cliOptions.map((o) => `${prefix}.${o.key}`),
    ...ctx.globalKnown,
  ];
  const issues = (result.error.issues as readonly DetailedIssue[]).filter(
    (i) => ctx.runs || i.code === 'unrecognized_keys',
  );
  lines.push(...issueLines(issues, prefix, { ...ctx, known, options: definition.cliOptions }));
  return undefined;
}

function applyOptions(layers: Layered, prefix: string, options: readonly CliOption[], input: LoadInput): void {
  const key = (o: CliOption): string => (prefix === '' ? o.key : `${prefix}.${o.key}`);
  for (const o of options) {
    const env = o.env?.find((name) => input.env[name] !== undefined && input.env[name] !== '');
    if (env !== undefined) layers.set(key(o), coerce(input.env[env], o.type), `env ${env}`);
  }
  if (prefix === '')
    for (const p of PRESENCE_ENV)
      if (input.env[p.env] !== undefined && input.env[p.env] !== '') layers.set(p.key, p.value, `env ${p.env}`);
  for (const o of options) {
    if (o.flag === '') continue;
    const raw = (o.type === 'boolean' ? typedBoolean(input.argv, o.flag) : undefined) ?? flagValue(input.flags, o.flag);
    if (raw !== undefined) layers.set(key(o), coerce(raw, o.type), `flag --${o.flag}`);
  }
}

/** The last `--flag=value` of a boolean flag as typed, before any `--`. */
function typedBoolean(argv: readonly string[] | undefined, flag: string): string | undefined {
  const end = argv?.indexOf('--') ?? -1;
  const typed = (end === -1 ? argv : argv?.slice(0, end)) ?? [];
  return typed
    .filter((a) => a.startsWith(`--${flag}=`))
    .map((a) => a.slice(flag.length + 3))
    .pop();
}

function unknownAgent(name: string, layers: Layered, input: LoadInput): string {
  const known = Object.keys(input.definitions).join(', ') || '(none)';
  return issueLine(`agents.${name}`, layers.sourceOf(`agents.${name}`), `unknown agent; known agents: ${known}`);
}

function unknownAgentFlag(name: string, input: LoadInput): string {
  const known = Object.keys(input.definitions).join(', ') || '(none)';
  return `--agent: unknown agent "${name}"; known agents: ${known}`;
}

/** `config: agents.failover.node (--node): ...` -> `agents.failover.node`. */
function fieldOf(line: string | undefined): string | undefined {
  return /^config: ([^\s:]+)/.exec(line ?? '')?.[1];
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function resolveToken(config: z.infer<typeof globalSchema>, layers: Layered, lines: string[]): string | undefined {
  if (config.token !== undefined) return config.token;
  if (config.tokenFile === undefined) return undefined;
  const source = layers.sourceOf('tokenFile');
  let token: string;
  try {
    token = readFileSync(config.tokenFile, 'utf8').trim();
  } catch {
    lines.push(issueLine('tokenFile', source, `cannot read ${config.tokenFile}`));
    return undefined;
  }
  if (token.length < 16) lines.push(issueLine('tokenFile', source, 'the token in it must be at least 16 characters'));
  return token;
}
