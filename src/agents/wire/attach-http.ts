import { AgentUnreachable, describeFailure, statusError } from './attach-errors.js';

export interface RequestOptions {
  readonly method: 'GET' | 'POST';
  readonly headers: Record<string, string>;
  readonly body?: unknown;
  readonly timeoutMs: number;
  /** Aborts with the handle (close()). */
  readonly signal: AbortSignal;
}

/** One JSON request to an agent: a timeout and an unreachable agent become PgdeckErrors with a short reason. */
export async function requestJson<T>(base: string, path: string, opts: RequestOptions): Promise<T> {
  const signal = AbortSignal.any([opts.signal, AbortSignal.timeout(opts.timeoutMs)]);
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, {
      method: opts.method,
      headers: opts.body === undefined ? opts.headers : { ...opts.headers, 'content-type': 'application/json' },
      ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
      signal,
    });
  } catch (error) {
    if (signal.aborted && !opts.signal.aborted)
      throw new AgentUnreachable(
        'timeout',
        'timeout',
        `the agent at ${base} did not answer within ${opts.timeoutMs} ms`,
      );
    const reason = describeFailure(error);
    throw new AgentUnreachable('unavailable', reason, `cannot reach the agent at ${base}: ${reason}`, error);
  }
  const body: unknown = await res.json().catch(() => undefined);
  if (!res.ok) throw statusError(res.status, body);
  return body as T;
}
