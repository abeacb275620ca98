import type { CliOption } from './agents/kernel/agent.js';
import { PgdeckError } from './agents/kernel/errors.js';
import { isSecretKey } from './agents/kernel/redact.js';
import type { SchemaIssue } from './agents/kernel/schema.js';
import { formerOwner } from './config-agents.js';
import { suggestKey } from './config-keys.js';
import type { Layered, Source } from './config-sources.js';

/** Every problem of a configuration at once: one line each, each naming its key. */
export class ConfigError extends PgdeckError {
  readonly lines: readonly string[];

  constructor(lines: readonly string[], field?: string) {
    const more = lines.length > 1 ? ` (and ${lines.length - 1} more)` : '';
    super('config', `${lines[0] ?? 'config: invalid'}${more}`, field === undefined ? undefined : { field });
    this.lines = lines;
  }
}

/** `config: agents.failover.node (--node): expected a string, got 3`. */
export function issueLine(key: string, source: Source, message: string): string {
  const where = source === 'default' ? '' : ` (${source.replace(/^flag /, '').replace(/^env /, '')})`;
  return `config: ${key}${where}: ${message}`;
}

/** What a zod issue carries beyond the structural SchemaIssue (every field optional: any schema may answer). */
export interface DetailedIssue extends SchemaIssue {
  readonly code?: string;
  readonly expected?: string;
  readonly values?: readonly unknown[];
  readonly keys?: readonly string[];
  readonly minimum?: number | bigint;
  readonly maximum?: number | bigint;
  readonly inclusive?: boolean;
  readonly origin?: string;
}

const TYPE_WORDS: Readonly<Record<string, string>> = {
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  string: 'a string',
  array: 'a list',
  object: 'a mapping of keys to values',
  record: 'a mapping of keys to values',
};

/** A library's default wording, replaced by ours; a schema's own message is kept as written. */
const DEFAULT_MESSAGE = /^(Invalid input|Invalid option|Too small|Too big|Invalid string|Invalid)\b/;

/** The message for one issue about a value `raw` (undefined when the key is not set). */
export function issueMessage(issue: DetailedIssue, raw: unknown): string {
  if (!DEFAULT_MESSAGE.test(issue.message)) return issue.message;
  switch (issue.code ?? '') {
    case 'invalid_type':
      return raw === undefined ? 'required' : `expected ${TYPE_WORDS[issue.expected ?? ''] ?? issue.expected}`;
    case 'invalid_value':
      return `expected one of ${(issue.values ?? []).map(String).join(', ')}`;
    case 'too_small':
      return bound(issue.origin, issue.minimum, issue.inclusive !== false, 'at least', 'more than');
    case 'too_big':
      return bound(issue.origin, issue.maximum, issue.inclusive !== false, 'at most', 'less than');
    default:
      return issue.message.replace(/^[^:]*: /, '');
  }
}

function bound(
  origin: string | undefined,
  n: number | bigint | undefined,
  inclusive: boolean,
  incl: string,
  excl: string,
): string {
  const unit = origin === 'string' ? ' characters' : origin === 'array' ? ' items' : '';
  if (origin === 'string' && n === 1 && inclusive && incl === 'at least') return 'must not be empty';
  return `expected ${inclusive ? incl : excl} ${String(n)}${unit}`;
}

/** `, got "two"`: the value as given, short, unless the message already shows it. */
export function gotSuffix(message: string, raw: unknown, secret: boolean): string {
  if (raw === undefined || message.includes(', got ') || message === 'required') return '';
  const text = secret ? JSON.stringify('********') : (JSON.stringify(raw) ?? String(raw));
  return `, got ${text.length > 60 ? `${text.slice(0, 57)}...` : text}`;
}

export interface IssueContext {
  readonly layers: Layered;
  readonly secrets: ReadonlySet<string>;
  readonly known: readonly string[];
  readonly options: readonly CliOption[];
}

export function issueLines(issues: readonly DetailedIssue[], prefix: string, ctx: IssueContext): string[] {
  const join = (...parts: readonly string[]): string => parts.filter((p) => p !== '').join('.');
  return issues.flatMap((issue) => {
    const at = join(prefix, ...issue.path.map(String));
    if (issue.code === 'unrecognized_keys')
      return (issue.keys ?? []).map((k) => {
        const key = join(at, k);
        return issueLine(key, ctx.layers.sourceOf(key), `unknown key${unknownHint(key, ctx.known)}`);
      });
    const key = at || '(root)';
    const raw = ctx.layers.get(key);
    const secret = ctx.secrets.has(key) || isSecretKey(key.slice(key.lastIndexOf('.') + 1));
    const message = issueMessage(issue, raw);
    const hint = message === 'required' ? requiredHint(key.slice(prefix.length + 1), ctx.options) : '';
    return [issueLine(key, ctx.layers.sourceOf(key), `${message}${hint}${gotSuffix(message, raw, secret)}`)];
  });
}

function unknownHint(key: string, known: readonly string[]): string {
  const owner = formerOwner(key);
  if (owner !== undefined) return ` (these settings belong to the ${owner} agent's section, agents.${owner})`;
  const meant = suggestKey(key, known);
  return meant === undefined ? '' : ` (did you mean ${meant}?)`;
}

function requiredHint(relativeKey: string, options: readonly CliOption[]): string {
  const o = options.find((opt) => opt.key === relativeKey);
  const env = o?.env ?? [];
  const ways = [
    ...(o === undefined || o.flag === '' ? [] : [`--${o.flag}`]),
    ...(env.length === 0 ? [] : [`env ${env.join(' or ')}`]),
  ];
  return ways.length === 0 ? '' : ` (${ways.join(', or ')})`;
}
