import { PgdeckError, type ErrorKind } from '../kernel/errors.js';
import { MASK, redactText } from '../kernel/redact.js';

/** What a failed call was doing, so its message names the server, command and keys involved. */
export interface RedisCallContext {
  /** `host:port` */
  readonly address: string;
  readonly command: string;
  readonly stream?: string;
  readonly group?: string;
  /** Texts that must never reach a message (the password). */
  readonly secrets: readonly string[];
}

/** Socket error codes that mean the server cannot be reached right now. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** Messages ioredis raises for a command sent while the connection is down. */
const NOT_CONNECTED = [/^Stream isn't writeable/, /^Connection is closed/];
/** Messages ioredis raises when the connection drops under a command in flight. */
const CONNECTION_LOST = [
  /^Reached the max retries per request limit/,
  /^Command aborted due to connection close/,
  /^Socket timeout/,
];

/** The first word of a Redis error reply (`WRONGPASS`, `NOGROUP`, `ERR`), upper-cased. */
function replyCode(message: string): string {
  return /^[A-Z]+/.exec(message)?.[0] ?? '';
}

/** Error text with every secret masked; also masks `password=` pairs and URL credentials. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret !== '') out = out.split(secret).join(MASK);
  return redactText(out);
}

/**
 * Turns whatever ioredis rejected with into a PgdeckError whose message says what to do. The raw
 * error is not kept as the cause: ioredis attaches the command's arguments to it, and the
 * arguments of HELLO/AUTH hold the password.
 */
export function redisError(error: unknown, ctx: RedisCallContext): PgdeckError {
  if (error instanceof PgdeckError) return error;
  const { kind, message } = classify(error, ctx);
  return new PgdeckError(kind, scrub(message, ctx.secrets));
}

function classify(error: unknown, ctx: RedisCallContext): { kind: ErrorKind; message: string } {
  const raw = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  const at = `redis at ${ctx.address}`;
  const key = ctx.stream === undefined ? '' : ` "${ctx.stream}"`;
  if (typeof code === 'string' && NETWORK_CODES.has(code)) {
    if (code === 'ECONNREFUSED')
      return { kind: 'unavailable', message: `${at} refused the connection (${code}): is redis-server running there?` };
    return { kind: 'unavailable', message: `${at} cannot be reached (${code}); reconnecting` };
  }
  if (NOT_CONNECTED.some((pattern) => pattern.test(raw)))
    return { kind: 'unavailable', message: `not connected to ${at}, ${ctx.command} not sent; reconnecting` };
  if (CONNECTION_LOST.some((pattern) => pattern.test(raw)))
    return { kind: 'unavailable', message: `lost the connection to ${at} during ${ctx.command}; reconnecting` };
  if (raw === 'Command timed out')
    return { kind: 'timeout', message: `${at} did not answer ${ctx.command} in time; is it overloaded or stopped?` };
  switch (replyCode(raw)) {
    case 'LOADING':
      return { kind: 'unavailable', message: `${at} is loading its dataset into memory; retry once it is done` };
    case 'NOAUTH':
      return { kind: 'unauthorized', message: `${at} requires a password (NOAUTH): configure the redis password` };
    case 'WRONGPASS':
      return {
        kind: 'unauthorized',
        message: `${at} rejected the username or password (WRONGPASS): check the redis password, or that the ACL user exists and is enabled`,
      };
    case 'NOPERM':
      return {
        kind: 'forbidden',
        message: `${at}: the redis user may not run ${ctx.command}${key} (NOPERM): grant it in the ACL`,
      };
    case 'WRONGTYPE':
      return {
        kind: 'invalid',
        message: `key${key} on ${at} holds another type, not a stream (WRONGTYPE): use another stream name or remove that key`,
      };
    case 'NOGROUP':
      return {
        kind: 'not-found',
        message: `consumer group "${ctx.group ?? '?'}" does not exist on stream${key} (NOGROUP): create the group first`,
      };
    case 'BUSYGROUP':
      return { kind: 'conflict', message: `consumer group "${ctx.group ?? '?'}" already exists on stream${key}` };
    case 'READONLY':
      return { kind: 'unavailable', message: `${at} is a read-only replica: point the adapter at the primary` };
    case 'MISCONF':
    case 'OOM':
    case 'BUSY':
    case 'MASTERDOWN':
      return { kind: 'unavailable', message: `${at} cannot serve ${ctx.command} now: ${raw}` };
    default:
      return generic(raw, ctx, at, key);
  }
}

function generic(raw: string, ctx: RedisCallContext, at: string, key: string): { kind: ErrorKind; message: string } {
  if (/^ERR no such key/.test(raw))
    return { kind: 'not-found', message: `stream${key} does not exist on ${at}: create it (or its group) first` };
  if (/^ERR (syntax error|wrong number of arguments|Invalid|value is not|The ID specified)/i.test(raw))
    return { kind: 'invalid', message: `${at} refused ${ctx.command}${key}: ${raw}` };
  return { kind: 'internal', message: `${ctx.command}${key} on ${at} failed: ${raw}` };
}
