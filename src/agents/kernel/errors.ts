/**
 * Every error pgdeck throws carries a stable `kind`: it becomes the event kind and the metric label,
 * and tells the caller (or the person) what sort of thing went wrong.
 */
export type ErrorKind =
  | 'config'
  | 'invalid-argument'
  | 'not-found'
  | 'unauthorized'
  | 'forbidden'
  | 'invalid'
  | 'conflict'
  | 'throttled'
  | 'precondition'
  | 'unavailable'
  | 'timeout'
  | 'aborted'
  | 'internal';

export class PgdeckError extends Error {
  readonly kind: ErrorKind;
  readonly field: string | undefined;

  constructor(kind: ErrorKind, message: string, options?: { cause?: unknown; field?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PgdeckError';
    this.kind = kind;
    this.field = options?.field;
  }
}

export function errorKind(error: unknown): ErrorKind {
  if (error instanceof PgdeckError) return error.kind;
  if (error instanceof Error && error.name === 'AbortError') return 'aborted';
  return 'internal';
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
