import type { AgentLogs } from '../kernel/agent.js';
import type { LogTail } from '../kernel/snapshot.js';
import { backoffDelay, type BackoffPolicy } from '../kernel/backoff.js';
import { systemClock } from '../kernel/clock.js';
import { PgdeckError } from '../kernel/errors.js';
import type { JournalEvent } from '../kernel/journal.js';
import type {
  ActionPreview,
  ActionResult,
  Actor,
  AgentControl,
  AgentHandle,
  AgentSnapshot,
} from '../kernel/snapshot.js';
import { describeFailure, statusError } from './attach-errors.js';
import { requestJson } from './attach-http.js';
import { MirrorReader } from './attach-mirror.js';
import {
  PROTOCOL_VERSION,
  actionPath,
  eventsQuery,
  headers,
  logsPath,
  paths,
  sseEvent,
  type WireHello,
} from './protocol.js';
import { SseParser, type SseMessage } from './sse-parser.js';

/**
 * Reconnecting: 100 ms, doubling up to 2 s. A daemon back after a restart is seen within 2 s
 * (with the kernel's 30 s cap it took up to ~20 s once the outage had lasted a few seconds).
 */
export const attachBackoff: BackoffPolicy = { baseMs: 100, maxMs: 2000, jitter: 0.2 };

export interface AttachOptions {
  readonly token?: string;
  readonly signal?: AbortSignal;
  /** Default `attachBackoff`. */
  readonly backoff?: BackoffPolicy;
  /** No bytes (not even a heartbeat) for this long means the connection is dead. */
  readonly idleTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  readonly journalCapacity?: number;
  /** The route to the agent when `url` is a local relay (`service proxy ns/svc:api`): the console shows it. */
  readonly via?: string;
}

export interface AttachedHandle<S = unknown> extends AgentHandle<S> {
  readonly reader: MirrorReader<S>;
  /** `GET /logs` of the attached agent. */
  readonly logs: AgentLogs['logs'];
  /** How many times the stream announced events lost from the remote ring. */
  readonly gaps: () => number;
}

/**
 * A remote agent as a local AgentHandle: a mirror kept current over `GET /events` (reconnecting
 * with backoff and resuming after the last sequence number seen), actions over POST.
 */
export function attachAgent<S = unknown>(url: string, opts: AttachOptions = {}): AttachedHandle<S> {
  const base = url.replace(/\/+$/, '');
  const reader = new MirrorReader<S>(nameFromUrl(base), base, opts.journalCapacity ?? 5000, opts.via);
  const abort = new AbortController();
  const onOuter = (): void => abort.abort();
  opts.signal?.addEventListener('abort', onOuter, { once: true });
  const auth: Record<string, string> = opts.token === undefined ? {} : { authorization: `Bearer ${opts.token}` };
  let instance: string | undefined;
  let gaps = 0;

  const onMessage = (message: SseMessage, connected: () => void): void => {
    switch (message.event) {
      case sseEvent.hello: {
        const hello = JSON.parse(message.data) as WireHello;
        if (hello.protocol !== PROTOCOL_VERSION) {
          throw new PgdeckError(
            'precondition',
            `the agent speaks wire protocol ${hello.protocol}, this pgdeck speaks ${PROTOCOL_VERSION}: use the same pgdeck version on both ends`,
          );
        }
        if (instance !== undefined && hello.instance !== instance) reader.reset(hello.agent);
        else reader.learnName(hello.agent);
        instance = hello.instance;
        connected();
        return;
      }
      case sseEvent.snapshot: {
        const { source } = reader.getSnapshot();
        if (!source.connected || source.stale || source.lastError !== undefined)
          reader.setSource({ connected: true, stale: false, lastError: undefined });
        reader.applySnapshot(JSON.parse(message.data) as AgentSnapshot<S>);
        return;
      }
      case sseEvent.journal:
        reader.applyEvent(JSON.parse(message.data) as JournalEvent);
        return;
      case sseEvent.gap:
        gaps += 1;
        return;
      default:
        return;
    }
  };

  const streamOnce = async (signal: AbortSignal, connected: () => void): Promise<void> => {
    const stream = new AbortController();
    const stop = (): void => stream.abort();
    signal.addEventListener('abort', stop, { once: true });
    const idleMs = opts.idleTimeoutMs ?? 45_000;
    let idle = setTimeout(stop, idleMs);
    try {
      const query = new URLSearchParams({
        [eventsQuery.since]: String(reader.lastSeq),
        [eventsQuery.instance]: instance ?? '',
      });
      const res = await fetch(`${base}${paths.events}?${query}`, {
        headers: {
          ...auth,
          accept: 'text/event-stream',
          [headers.lastEventId]: String(reader.lastSeq),
          [headers.protocol]: String(PROTOCOL_VERSION),
        },
        signal: stream.signal,
      });
      if (!res.ok || res.body === null) throw statusError(res.status, await res.json().catch(() => undefined));
      const parser = new SseParser();
      const decoder = new TextDecoder();
      for await (const chunk of res.body) {
        clearTimeout(idle);
        idle = setTimeout(stop, idleMs);
        for (const message of parser.push(decoder.decode(chunk, { stream: true }))) onMessage(message, connected);
      }
      throw new PgdeckError('unavailable', 'closed by the agent');
    } catch (error) {
      if (stream.signal.aborted && !signal.aborted)
        throw new PgdeckError('timeout', `timeout: no data from the agent for ${idleMs} ms`);
      throw error;
    } finally {
      clearTimeout(idle);
      signal.removeEventListener('abort', stop);
    }
  };

  const follow = async (signal: AbortSignal): Promise<void> => {
    let attempt = 0;
    while (!signal.aborted) {
      try {
        await streamOnce(signal, () => {
          attempt = 0;
        });
      } catch (error) {
        if (signal.aborted) break;
        reader.setSource({ connected: false, stale: true, lastError: describeFailure(error) });
      }
      attempt += 1;
      await systemClock.sleep(backoffDelay(opts.backoff ?? attachBackoff, attempt, Math.random), signal);
    }
    reader.setSource({ connected: false, stale: true });
  };

  const request = <T>(method: 'GET' | 'POST', path: string, body?: unknown, actor?: Actor): Promise<T> =>
    requestJson<T>(base, path, {
      method,
      headers: { ...auth, ...(actor === undefined ? {} : { [headers.actor]: actor.who }) },
      ...(method === 'POST' ? { body: body ?? {} } : {}),
      timeoutMs: opts.requestTimeoutMs ?? 30_000,
      signal: abort.signal,
    });

  const control: AgentControl = {
    preview: (name, args, actor) => request<ActionPreview>('POST', actionPath(name, true), args, actor),
    invoke: (name, args, actor) => request<ActionResult>('POST', actionPath(name), args, actor),
  };

  const following = follow(abort.signal);
  return {
    get name() {
      return reader.name;
    },
    reader,
    control,
    logs: (source, lines) => request<LogTail>('GET', logsPath(source, lines)),
    gaps: () => gaps,
    close: async () => {
      abort.abort();
      opts.signal?.removeEventListener('abort', onOuter);
      await following;
    },
  };
}

function nameFromUrl(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    throw new PgdeckError('invalid-argument', `not an agent URL: ${url}`, { field: 'url' });
  }
}
