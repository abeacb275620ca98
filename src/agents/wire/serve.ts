import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AgentRoute, LogSource } from '../kernel/agent.js';
import { PgdeckError } from '../kernel/errors.js';
import type { AgentControl, AgentReader } from '../kernel/snapshot.js';
import { PayloadTooLarge, actorOf, checkBearer, readJsonBody, sendError, sendJson, sendTooLarge } from './http-io.js';
import { FlushQueue } from './flush-queue.js';
import { agentLogs, logLineCount } from './logs.js';
import {
  PROTOCOL_VERSION,
  headers,
  logLimits,
  logsQuery,
  paths,
  type WireActionList,
  type WireError,
  type WireHealth,
} from './protocol.js';
import { resumePoint, streamEvents, type EventStream, type StreamShared } from './serve-events.js';
import { JournalFrames, SnapshotFeed, type Serialize } from './stream-frames.js';
import { watchStreams } from './stream-watch.js';

export interface ServedAgent {
  readonly name: string;
  readonly reader: AgentReader;
  readonly control: AgentControl;
  readonly metricsText?: () => Promise<{ readonly contentType: string; readonly body: string }>;
  /** Extra open GET routes (an agent's probes for load balancers, e.g. `/primary`). */
  readonly routes?: readonly AgentRoute[];
  /** Log sources beside `daemon` (the journal) for `GET /logs` (e.g. a server log the agent manages). */
  readonly logSources?: Readonly<Record<string, LogSource>>;
}

export interface ServeOptions {
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  /** Bearer token for the API; without one, every protected endpoint answers 401. */
  readonly token?: string;
  /** Let `/state`, `/events` and `GET /actions` through without the token (actions still need it). */
  readonly openReads?: boolean;
  readonly maxBodyBytes?: number;
  readonly heartbeatMs?: number;
  /** Concurrent `/events` streams served; one more is refused with a 503 (default 100). */
  readonly maxStreams?: number;
  /** A reader whose socket has not drained for this long is dropped (default 10 s). */
  readonly drainTimeoutMs?: number;
  /** Journal events a stream without a resume point starts with, after the snapshot (default 200). */
  readonly tailEvents?: number;
  /** How often a snapshot whose only change is pass timing is still pushed (default 5 s). */
  readonly snapshotRefreshMs?: number;
  /** JSON for the event stream (default `JSON.stringify`). */
  readonly serialize?: Serialize;
  /** Aborting closes the server, like `close()`. */
  readonly signal?: AbortSignal;
}

export interface AgentServer {
  readonly url: string;
  readonly port: number;
  /** Identifies this run: a restarted process gets another, and attached readers start over. */
  readonly instance: string;
  /** What the server holds for its event streams: all zero once the last one has closed. */
  streamLoad(): StreamLoad;
  close(): Promise<void>;
}

export interface StreamLoad {
  readonly open: number;
  /** Streams waiting for refreshes of timing-only snapshots. */
  readonly refreshListeners: number;
  /** Streams waiting for their turn to write. */
  readonly queued: number;
  /** Journal event frames kept for sharing. */
  readonly cachedFrames: number;
}

const actionRoute = /^\/actions\/([^/]+)(\/preview)?$/;

/** Serves one agent over HTTP: health and metrics open, state and events behind the token, actions always. */
export async function serveAgent(agent: ServedAgent, opts: ServeOptions = {}): Promise<AgentServer> {
  const instance = randomUUID();
  const maxBodyBytes = opts.maxBodyBytes ?? 64 * 1024;
  const streams = new Set<EventStream>();
  const maxStreams = opts.maxStreams ?? 100;
  const drainTimeoutMs = opts.drainTimeoutMs ?? 10_000;
  const serialize = opts.serialize ?? JSON.stringify;
  const shared: StreamShared = {
    serialize,
    frames: new JournalFrames(serialize),
    queue: new FlushQueue(),
    feed: new SnapshotFeed(agent.reader, serialize, opts.snapshotRefreshMs ?? 5000),
  };
  const logs = agentLogs(agent.reader, agent.logSources);
  const extra = new Map((agent.routes ?? []).map((r) => [r.path, r]));

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://agent');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    const protect = (): void => checkBearer(req, opts.token);
    const action = actionRoute.exec(path);
    if (action !== null) {
      if (method !== 'POST') throw methodNotAllowed('POST');
      protect();
      const name = decodePathPart(action[1] ?? '');
      const args = await readJsonBody(req, maxBodyBytes);
      const result =
        action[2] === undefined
          ? await agent.control.invoke(name, args, actorOf(req))
          : await agent.control.preview(name, args, actorOf(req));
      sendJson(res, 200, result);
      return;
    }
    // Load balancers' health checks: haproxy's bare `option httpchk` sends OPTIONS, others HEAD.
    const check = path === paths.health || path === paths.ready || extra.has(path);
    if (method !== 'GET' && !(check && (method === 'HEAD' || method === 'OPTIONS'))) throw methodNotAllowed('GET');
    const reads = (): void => {
      if (opts.openReads !== true) protect();
    };
    switch (path) {
      case paths.health:
      case paths.ready: {
        const health = agent.reader.getSnapshot().health;
        const body: WireHealth = { agent: agent.reader.name, protocol: PROTOCOL_VERSION, health };
        sendJson(res, (path === paths.health ? health.live : health.ready) ? 200 : 503, body);
        return;
      }
      case paths.metrics: {
        if (agent.metricsText === undefined) throw new PgdeckError('not-found', 'this agent exports no metrics');
        const { contentType, body } = await agent.metricsText();
        res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
        res.end(body);
        return;
      }
      case paths.state:
        reads();
        sendJson(res, 200, agent.reader.getSnapshot(), { [headers.instance]: instance });
        return;
      case paths.actions: {
        reads();
        const body: WireActionList = { agent: agent.reader.name, actions: agent.reader.getSnapshot().actions };
        sendJson(res, 200, body);
        return;
      }
      case paths.events: {
        reads();
        if (streams.size >= maxStreams) {
          sendJson(res, 503, tooManyStreams(maxStreams), { 'retry-after': '5' });
          return;
        }
        const start = resumePoint(req, url.searchParams, agent.reader, instance, opts.tailEvents ?? 200);
        const stream = streamEvents(res, agent.reader, start, shared, {
          instance,
          heartbeatMs: opts.heartbeatMs ?? 15_000,
          drainTimeoutMs,
        });
        streams.add(stream);
        res.once('close', () => {
          streams.delete(stream);
          if (streams.size === 0) shared.frames.clear();
        });
        return;
      }
      case paths.logs: {
        protect();
        const source = url.searchParams.get(logsQuery.source) ?? logLimits.daemonSource;
        sendJson(res, 200, await logs.logs(source, logLineCount(url.searchParams.get(logsQuery.lines))));
        return;
      }
      default: {
        const route = extra.get(path);
        if (route === undefined) throw new PgdeckError('not-found', `no route ${path}`);
        const answer = await route.handle(url.searchParams);
        sendJson(res, answer.status, answer.body);
      }
    }
  };

  // An HTTP/1.1 check without a Host header (haproxy's `option httpchk GET /primary HTTP/1.1`) is answered, not refused.
  const server = createServer({ requireHostHeader: false }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (error instanceof PayloadTooLarge) sendTooLarge(req, res, error);
      else if (error instanceof MethodNotAllowed)
        sendJson(res, 405, { error: { code: error.kind, message: error.message } }, { allow: error.allow });
      else
        sendError(
          res,
          error,
          error instanceof PgdeckError && error.kind === 'unauthorized' ? { 'www-authenticate': 'Bearer' } : {},
        );
    });
  });
  server.on('connection', () => shared.queue.accepted());
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;

  await new Promise<void>((resolve, reject) => {
    const where = `${opts.host ?? '127.0.0.1'}:${opts.port ?? 0}`;
    const fail = (error: Error): void => {
      shared.feed.close();
      reject(new PgdeckError('unavailable', `cannot serve on ${where}: ${error.message}`, { cause: error }));
    };
    server.once('error', fail);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', fail);
      resolve();
    });
  });
  const { port, address, family } = server.address() as AddressInfo;
  const host = family === 'IPv6' ? `[${address}]` : address;
  const unwatch = watchStreams(port, streams, drainTimeoutMs);

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      unwatch();
      shared.feed.close();
      for (const stream of streams) stream.stop();
      server.close(() => resolve());
      server.closeIdleConnections();
      setTimeout(() => server.closeAllConnections(), 1000).unref();
    });
    return closing;
  };
  if (opts.signal?.aborted === true) await close();
  else opts.signal?.addEventListener('abort', () => void close(), { once: true });
  const streamLoad = (): StreamLoad => ({
    open: streams.size,
    refreshListeners: shared.feed.listening,
    queued: shared.queue.size,
    cachedFrames: shared.frames.size,
  });
  return { url: `http://${host}:${port}`, port, instance, streamLoad, close };
}

function tooManyStreams(max: number): WireError {
  return {
    error: {
      code: 'unavailable',
      message: `this agent already serves ${max} event streams, its limit: retry later, or read /state once`,
    },
  };
}

class MethodNotAllowed extends PgdeckError {
  constructor(readonly allow: string) {
    super('invalid-argument', `use ${allow} here`);
  }
}

function methodNotAllowed(allow: string): MethodNotAllowed {
  return new MethodNotAllowed(allow);
}

function decodePathPart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new PgdeckError('invalid-argument', `malformed action name in the path: ${part.slice(0, 60)}`);
  }
}
