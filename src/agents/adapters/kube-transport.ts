import {
  HttpMethod,
  IsomorphicFetchHttpLibrary,
  RequestContext,
  Watch,
  type KubeConfig,
} from '@kubernetes/client-node';
import { Agent as HttpsAgent } from 'node:https';
import { PgdeckError } from '../kernel/errors.js';
import { onAbort } from '../kernel/on-abort.js';
import { KubeApiError, kubeConnectionError, kubeStatusError, type KubeRequestInfo } from './kube-errors.js';
import { RequestCounter } from './kube-request-counter.js';
import { RequestSlots } from './kube-slots.js';

export type KubeMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface KubeRequest extends KubeRequestInfo {
  readonly method: KubeMethod;
  readonly path: string;
  readonly query?: Readonly<Record<string, string | undefined>>;
  readonly contentType?: string;
  /** Sent as JSON (an apply patch is JSON too: YAML is a superset). */
  readonly body?: unknown;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** One watch stream: `events` until the server or the network ends it, or `stop()`. */
export interface KubeWatchHandle {
  /** False when the server refused it before streaming (`onEnd` was called with the error). */
  readonly established: boolean;
  stop(): void;
}

/** Kept-alive connections to the API server at most, and requests on the wire at once. */
export const MAX_CONNECTIONS = 32;

const METHODS: Readonly<Record<KubeMethod, HttpMethod>> = {
  GET: HttpMethod.GET,
  POST: HttpMethod.POST,
  PUT: HttpMethod.PUT,
  PATCH: HttpMethod.PATCH,
  DELETE: HttpMethod.DELETE,
};

/**
 * Every request pgdeck makes to the API server goes through here, on client-node's own HTTP stack and
 * authentication (tokens, client certificates, exec plugins, in-cluster token files): answers are plain
 * JSON, failures are `KubeApiError`s, and each call is counted by verb and resource.
 *
 * Mends two gaps of client-node 1.4: it builds a new https.Agent for every call, so each request paid a
 * TLS handshake; here calls share one keep-alive agent while the TLS material stays the same. And with
 * a kept-alive agent, node-fetch fails responses the agent handed on to a queued request ("Premature
 * close"), so at most `MAX_CONNECTIONS` requests are on the wire and the rest wait in `slots`
 * (kube-slots.ts), never in the agent.
 */
export class KubeTransport {
  readonly counter = new RequestCounter();
  readonly slots = new RequestSlots(MAX_CONNECTIONS);
  private readonly http = new IsomorphicFetchHttpLibrary();
  private shared: { key: string; agent: HttpsAgent } | undefined;

  constructor(
    private readonly config: KubeConfig,
    readonly server: string,
    private readonly defaultTimeoutMs: number,
  ) {}

  async request<T>(req: KubeRequest): Promise<T> {
    const timeoutMs = req.timeoutMs ?? this.defaultTimeoutMs;
    const url = new URL(this.server.replace(/\/$/, '') + req.path);
    for (const [key, value] of Object.entries(req.query ?? {}))
      if (value !== undefined) url.searchParams.set(key, value);
    const context = new RequestContext(url.toString(), METHODS[req.method]);
    context.setHeaderParam('Accept', 'application/json');
    if (req.body !== undefined) {
      context.setHeaderParam('Content-Type', req.contentType ?? 'application/json');
      context.setBody(JSON.stringify(req.body));
    }
    await this.authenticate(context, req);
    // one controller for the deadline and the caller's signal (AbortSignal.any would tie a dependent
    // signal to a long-lived one on every call)
    const controller = new AbortController();
    const abort = (): void => controller.abort();
    const timer = setTimeout(abort, timeoutMs);
    const withdraw = req.signal === undefined ? undefined : onAbort(req.signal, abort);
    if (req.signal?.aborted === true) abort();
    context.setSignal(controller.signal);
    let status: number;
    let text: string;
    let retryAfter: string | undefined;
    let slot = false;
    try {
      await this.slots.acquire(controller.signal);
      slot = true;
      this.counter.count(req.verb, req.resource);
      const response = await this.http.send(context).toPromise();
      status = response.httpStatusCode;
      retryAfter = response.headers['retry-after'];
      text = await response.body.text();
    } catch (error) {
      if (req.signal?.aborted === true)
        throw new PgdeckError('aborted', `${req.verb} ${req.resource}: aborted`, { cause: error });
      if (!slot)
        throw new KubeApiError(
          'unavailable',
          `unavailable: no connection to the API server came free for ${req.verb} ${req.resource} within ${timeoutMs} ms (${this.slots.size} requests on the wire)`,
          { status: 0, cause: error },
        );
      throw kubeConnectionError(error, req, timeoutMs);
    } finally {
      if (slot) this.slots.release();
      clearTimeout(timer);
      withdraw?.();
    }
    const body = parseJson(text);
    if (status >= 200 && status < 300) return body as T;
    throw kubeStatusError(status, body, req, retryAfter);
  }

  /**
   * Opens a watch (client-node's Watch: its own connection, kept alive by TCP keepalive). `onEnd` gets
   * null when the stream closed cleanly, else the error; it is not called after `stop()`.
   */
  async watch(
    req: KubeRequestInfo & { readonly path: string; readonly query: Readonly<Record<string, string | undefined>> },
    onEvent: (type: string, object: unknown) => void,
    onEnd: (error: KubeApiError | null) => void,
  ): Promise<KubeWatchHandle> {
    let stopped = false;
    let ended = false;
    this.counter.count('watch', req.resource);
    let controller: AbortController;
    try {
      controller = await new Watch(this.config).watch(
        req.path,
        { ...req.query },
        (type, object: unknown) => {
          if (!stopped) onEvent(type, object);
        },
        (error: unknown) => {
          ended = true;
          if (!stopped) onEnd(error === null || error === undefined ? null : watchError(error, req));
        },
      );
    } catch (error) {
      throw watchError(error, req);
    }
    return {
      established: !ended,
      stop: () => {
        stopped = true;
        controller.abort();
      },
    };
  }

  /** Closes the kept-alive connections, so a stopped client holds no socket open. */
  close(): void {
    this.shared?.agent.destroy();
    this.shared = undefined;
  }

  private async authenticate(context: RequestContext, req: KubeRequestInfo): Promise<void> {
    try {
      await this.config.applySecurityAuthentication(context);
    } catch (error) {
      throw new KubeApiError(
        'unauthorized',
        `unauthorized: no credentials for ${req.verb} ${req.resource}: ${error instanceof Error ? error.message : String(error)}`,
        { status: 0, cause: error },
      );
    }
    const fresh = context.getAgent();
    if (fresh === undefined || fresh.constructor !== HttpsAgent) return;
    const options = fresh.options;
    const key = [options.ca, options.cert, options.key, options.pfx, options.rejectUnauthorized, options.servername]
      .map((part) => String(part))
      .join('\u0000');
    if (this.shared?.key !== key) {
      this.shared?.agent.destroy();
      // headroom over the slots: should a socket come free a tick after its slot, the agent opens another
      // rather than queue the request (see RequestSlots)
      const agent = new HttpsAgent({ ...options, keepAlive: true, maxSockets: 2 * MAX_CONNECTIONS });
      this.shared = { key, agent };
    }
    fresh.destroy();
    context.setAgent(this.shared.agent);
  }
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function watchError(error: unknown, req: KubeRequestInfo): KubeApiError {
  if (error instanceof KubeApiError) return error;
  const status = (error as { statusCode?: unknown } | undefined)?.statusCode;
  if (typeof status === 'number') return kubeStatusError(status, undefined, req);
  return kubeConnectionError(error, req, 0);
}
