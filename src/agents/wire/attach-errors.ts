import { PgdeckError, errorMessage } from '../kernel/errors.js';
import { errorFromWire } from './protocol.js';

/** An agent answered, but not with a success: the status and what it said. */
export class WireStatusError extends PgdeckError {
  constructor(
    readonly status: number,
    said: PgdeckError,
  ) {
    super(said.kind, said.message, said.field === undefined ? undefined : { field: said.field });
  }
}

/** The agent could not be asked at all; `reason` is the short why. */
export class AgentUnreachable extends PgdeckError {
  constructor(
    kind: 'unavailable' | 'timeout',
    readonly reason: string,
    message: string,
    cause?: unknown,
  ) {
    super(kind, message, cause === undefined ? undefined : { cause });
  }
}

export function statusError(status: number, body: unknown): WireStatusError {
  return new WireStatusError(status, errorFromWire(status, body));
}

/** The agent's 401 messages, short. */
const unauthorized: readonly (readonly [RegExp, string])[] = [
  [/^wrong bearer token/, 'wrong token'],
  [/^missing bearer token/, 'no token sent'],
  [/no API token configured/, 'the agent has no token configured'],
];

const tlsCodes = /^(ERR_SSL_|ERR_TLS_|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|UNABLE_TO_)/;

function networkCause(error: unknown): (Error & { code?: string; hostname?: string }) | undefined {
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause instanceof AggregateError) return (cause.errors.find((e) => e instanceof Error) as Error) ?? cause;
  return cause instanceof Error ? cause : undefined;
}

/** `wrong version number` from OpenSSL's `...:SSL routines:ssl3_get_record:wrong version number`. */
function tlsReason(message: string): string {
  const last = message.split(':').at(-1)?.trim();
  return last === undefined || last === '' ? message : last;
}

/**
 * Why an attached agent is not live, in a few words: `refused`, `401: wrong token`, `timeout`,
 * `TLS: self-signed certificate`, `DNS: cannot resolve pg0.example`, `closed by the agent`.
 */
export function describeFailure(error: unknown): string {
  if (error instanceof AgentUnreachable) return error.reason;
  if (error instanceof WireStatusError) {
    const short = error.status === 401 ? unauthorized.find(([re]) => re.test(error.message))?.[1] : undefined;
    return `${error.status}: ${short ?? error.message}`;
  }
  const cause = networkCause(error);
  const code = cause?.code ?? (error as { code?: string } | undefined)?.code ?? '';
  if (code === 'ECONNREFUSED') return 'refused';
  if (['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_FAIL'].includes(code))
    return `DNS: cannot resolve ${cause?.hostname ?? 'the host'}${code === 'EAI_AGAIN' ? ' (resolver not answering)' : ''}`;
  if (tlsCodes.test(code)) return `TLS: ${tlsReason(cause?.message ?? code)}`;
  if (['ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT'].includes(code)) return 'timeout';
  if (['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET'].includes(code)) return 'closed by the agent';
  if (['EHOSTUNREACH', 'ENETUNREACH'].includes(code)) return 'no route to the host';
  if (cause?.message === 'bad port') return 'bad port: fetch refuses to connect to this port number';
  if (error instanceof PgdeckError) return error.message;
  return errorMessage(cause ?? error);
}
