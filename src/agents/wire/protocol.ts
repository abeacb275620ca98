import { PgdeckError, type ErrorKind } from '../kernel/errors.js';
import type { LogTail } from '../kernel/snapshot.js';
import type { JournalEvent } from '../kernel/journal.js';
import type { ActionInfo, AgentHealth, AgentSnapshot } from '../kernel/snapshot.js';

/**
 * The headless <-> attach protocol: what `serve.ts` answers and `attach.ts` expects. Bump the
 * version on any change an older peer would misread.
 */
export const PROTOCOL_VERSION = 1;

export const paths = {
  health: '/health',
  ready: '/ready',
  metrics: '/metrics',
  state: '/state',
  events: '/events',
  actions: '/actions',
  logs: '/logs',
} as const;

export function actionPath(name: string, preview = false): string {
  return `${paths.actions}/${encodeURIComponent(name)}${preview ? '/preview' : ''}`;
}

/** Header names, lower-case as node:http delivers them. */
export const headers = {
  authorization: 'authorization',
  /**
   * `Authorization` as it arrives through the Kubernetes API server's service proxy, which consumes
   * the real header for its own authentication: `pgdeck attach --kube` sends the agent's token here.
   */
  proxiedAuthorization: 'x-pgdeck-authorization',
  actor: 'x-pgdeck-actor',
  protocol: 'x-pgdeck-protocol',
  /** Identifies one run of the headless process: journal sequence numbers restart with it. */
  instance: 'x-pgdeck-instance',
  lastEventId: 'last-event-id',
} as const;

/** Query parameters of `GET /events`: resume point and the instance it belongs to. */
export const eventsQuery = { since: 'since', instance: 'instance' } as const;

/** Query parameters of `GET /logs`: which source (`daemon` by default) and how many of its newest lines. */
export const logsQuery = { source: 'source', lines: 'lines' } as const;

/** `GET /logs` answers at most `maxLines` lines, `defaultLines` when none are asked for. */
export const logLimits = { defaultLines: 100, maxLines: 500, daemonSource: 'daemon' } as const;

export function logsPath(source: string, lines: number): string {
  return `${paths.logs}?${new URLSearchParams({ [logsQuery.source]: source, [logsQuery.lines]: String(lines) })}`;
}

/** SSE event names on `GET /events`. Journal events carry `id: <seq>`. */
export const sseEvent = { hello: 'hello', snapshot: 'snapshot', journal: 'journal', gap: 'gap' } as const;

export type WireSnapshot<S = unknown> = AgentSnapshot<S>;
export type WireEvent = JournalEvent;

/** First message of every event stream. */
export interface WireHello {
  readonly protocol: number;
  readonly agent: string;
  readonly instance: string;
  /** The stream resumes after this sequence number. */
  readonly resumeFrom: number;
  /** The client's resume point belonged to another instance (the agent restarted): start over. */
  readonly reset: boolean;
  readonly lastSeq: number;
}

/** Events after `after` and before `firstSeq` were dropped from the ring before this reader got them. */
export interface WireGap {
  readonly after: number;
  readonly firstSeq: number;
}

export type WireLogs = LogTail;

export interface WireHealth {
  readonly agent: string;
  readonly protocol: number;
  readonly health: AgentHealth;
}

export interface WireActionList {
  readonly agent: string;
  readonly actions: readonly ActionInfo[];
}

export interface WireError {
  readonly error: { readonly code: ErrorKind; readonly message: string; readonly field?: string };
}

const statusByKind: Partial<Record<ErrorKind, number>> = {
  'invalid-argument': 400,
  unauthorized: 401,
  'not-found': 404,
  conflict: 409,
  precondition: 412,
  unavailable: 503,
  timeout: 504,
};

/** The one place an error kind becomes an HTTP status: anything unlisted is a 500. */
export function httpStatus(kind: ErrorKind): number {
  return statusByKind[kind] ?? 500;
}

/** Error body for the wire; internal errors say nothing about their cause. */
export function wireError(error: PgdeckError): { readonly status: number; readonly body: WireError } {
  const status = httpStatus(error.kind);
  if (status === 500) return { status, body: { error: { code: 'internal', message: 'internal error' } } };
  return {
    status,
    body: {
      error: { code: error.kind, message: error.message, ...(error.field === undefined ? {} : { field: error.field }) },
    },
  };
}

const knownKinds: readonly ErrorKind[] = [
  'config',
  'invalid-argument',
  'not-found',
  'unauthorized',
  'conflict',
  'precondition',
  'unavailable',
  'timeout',
  'aborted',
  'internal',
];

/** Turns an error response back into the PgdeckError the remote side threw. */
export function errorFromWire(status: number, body: unknown): PgdeckError {
  const error = typeof body === 'object' && body !== null ? (body as Partial<WireError>).error : undefined;
  const code = knownKinds.find((k) => k === error?.code) ?? kindFromStatus(status);
  const message = typeof error?.message === 'string' ? error.message : `HTTP ${status}`;
  const field = typeof error?.field === 'string' ? error.field : undefined;
  return new PgdeckError(code, message, field === undefined ? undefined : { field });
}

function kindFromStatus(status: number): ErrorKind {
  const found = Object.entries(statusByKind).find(([, s]) => s === status);
  return found === undefined ? 'internal' : (found[0] as ErrorKind);
}
