import { PgdeckError, type ErrorKind } from '../kernel/errors.js';

/** What a request was for, so an error can say what was refused. */
export interface KubeRequestInfo {
  /** The Kubernetes verb: get, list, watch, create, update, patch, delete. */
  readonly verb: string;
  /** As RBAC names it: `statefulsets`, `statefulsets/scale`. */
  readonly resource: string;
  readonly namespace?: string;
  readonly name?: string;
}

/**
 * A failed Kubernetes API call. `kind` says what a person can do about it; `status` (0 when the
 * server did not answer) and `reason` (the Status reason: `Conflict`, `AlreadyExists`, `Expired`)
 * let the adapter itself tell a 410 from a 409.
 */
export class KubeApiError extends PgdeckError {
  readonly status: number;
  readonly reason: string | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(
    kind: ErrorKind,
    message: string,
    details: { status: number; reason?: string; retryAfterMs?: number; field?: string; cause?: unknown },
  ) {
    super(kind, message, {
      ...(details.field === undefined ? {} : { field: details.field }),
      ...(details.cause === undefined ? {} : { cause: details.cause }),
    });
    this.name = 'KubeApiError';
    this.status = details.status;
    this.reason = details.reason;
    this.retryAfterMs = details.retryAfterMs;
  }
}

interface StatusCause {
  readonly reason?: string;
  readonly message?: string;
  readonly field?: string;
}

/** The parts of a metav1.Status the messages use. */
interface KubeStatus {
  readonly message?: string;
  readonly reason?: string;
  readonly details?: {
    readonly name?: string;
    readonly kind?: string;
    readonly causes?: readonly StatusCause[];
    readonly retryAfterSeconds?: number;
  };
}

function statusOf(body: unknown): KubeStatus {
  if (typeof body === 'object' && body !== null) return body as KubeStatus;
  if (typeof body === 'string' && body.trim() !== '') return { message: body.trim() };
  return {};
}

const inNamespace = (namespace: string | undefined): string =>
  namespace === undefined || namespace === '' ? '' : ` in namespace "${namespace}"`;

/** Maps an API server answer that is not 2xx to an error a person can act on. */
export function kubeStatusError(
  status: number,
  body: unknown,
  request: KubeRequestInfo,
  retryAfterHeader?: string,
): KubeApiError {
  const s = statusOf(body);
  const serverMessage = s.message ?? `HTTP ${status}`;
  const base = { status, ...(s.reason === undefined ? {} : { reason: s.reason }) };
  const what = `${request.verb} ${request.resource}${request.name === undefined ? '' : ` "${request.name}"`}`;
  if (status === 401)
    return new KubeApiError(
      'unauthorized',
      `unauthorized: the API server rejected the credentials (${what}): the kubeconfig's token or certificate is wrong or expired`,
      base,
    );
  if (status === 403) return new KubeApiError('forbidden', forbiddenMessage(serverMessage, request), base);
  if (status === 404)
    return new KubeApiError(
      'not-found',
      `not found: ${request.resource}${request.name === undefined ? '' : ` "${request.name}"`}${inNamespace(request.namespace)}`,
      base,
    );
  if (status === 409) return new KubeApiError('conflict', `conflict: ${serverMessage}`, base);
  if (status === 410) return new KubeApiError('precondition', `expired: ${serverMessage}`, base);
  if (status === 422) {
    const causes = (s.details?.causes ?? []).filter((c) => c.message !== undefined || c.field !== undefined);
    const field = causes.find((c) => c.field !== undefined)?.field;
    const subject = `${s.details?.kind ?? request.resource} "${s.details?.name ?? request.name ?? ''}"`;
    const listed = causes.map((c) => (c.field === undefined ? (c.message ?? '') : `${c.field}: ${c.message ?? ''}`));
    return new KubeApiError(
      'invalid',
      `invalid: ${subject}: ${listed.length > 0 ? listed.join('; ') : serverMessage}`,
      field === undefined ? base : { ...base, field },
    );
  }
  if (status === 429) {
    const seconds = Number(retryAfterHeader ?? s.details?.retryAfterSeconds ?? 1);
    const retryAfterMs = Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 1000;
    return new KubeApiError(
      'throttled',
      `throttled: the API server asks to retry ${what} after ${retryAfterMs / 1000} s: ${serverMessage}`,
      { ...base, retryAfterMs },
    );
  }
  if (status >= 500)
    return new KubeApiError(
      'unavailable',
      `unavailable: the API server answered ${status} to ${what}: ${serverMessage}`,
      base,
    );
  return new KubeApiError('invalid', `invalid: ${what} answered ${status}: ${serverMessage}`, base);
}

/**
 * `forbidden: cannot patch statefulsets in namespace "db" (as system:serviceaccount:db:pgdeck)`: the
 * verb, resource and namespace the authorizer refused (from its message when it names them), and who asked.
 */
function forbiddenMessage(serverMessage: string, request: KubeRequestInfo): string {
  const user = /User "([^"]+)"/.exec(serverMessage)?.[1];
  const refused = /cannot (\S+) resource "([^"]+)"/.exec(serverMessage);
  const namespace = /in the namespace "([^"]+)"/.exec(serverMessage)?.[1] ?? request.namespace;
  const verb = refused?.[1] ?? request.verb;
  const resource = refused?.[2] ?? request.resource;
  return `forbidden: cannot ${verb} ${resource}${inNamespace(namespace)}${user === undefined ? '' : ` (as ${user})`}`;
}

/** A request that got no answer: refused, reset, timed out, or TLS that did not verify. */
export function kubeConnectionError(error: unknown, request: KubeRequestInfo, timeoutMs: number): KubeApiError {
  const code = (error as { code?: unknown } | undefined)?.code;
  const name = error instanceof Error ? error.name : '';
  const what = `${request.verb} ${request.resource}`;
  if (name === 'AbortError' || name === 'TimeoutError')
    return new KubeApiError(
      'unavailable',
      `unavailable: the API server did not answer ${what} within ${timeoutMs} ms`,
      {
        status: 0,
        cause: error,
      },
    );
  const reason = typeof code === 'string' ? code : error instanceof Error ? error.message : String(error);
  return new KubeApiError('unavailable', `unavailable: cannot reach the API server for ${what} (${reason})`, {
    status: 0,
    cause: error,
  });
}
