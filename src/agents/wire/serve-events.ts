import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AgentReader } from '../kernel/snapshot.js';
import { PROTOCOL_VERSION, eventsQuery, headers, sseEvent, type WireGap, type WireHello } from './protocol.js';

export interface EventStreamOptions {
  readonly instance: string;
  readonly heartbeatMs: number;
  /** Journal events written per batch before checking the socket buffer. */
  readonly batch?: number;
}

/** Where a stream resumes: `Last-Event-ID` wins over `?since=`; another instance's ids start over. */
export function resumePoint(
  req: IncomingMessage,
  query: URLSearchParams,
  reader: AgentReader,
  instance: string,
): { from: number; reset: boolean } {
  const header = req.headers[headers.lastEventId];
  const raw = typeof header === 'string' && header !== '' ? header : query.get(eventsQuery.since);
  const asked = raw === null ? 0 : Number(raw);
  const from = Number.isSafeInteger(asked) && asked > 0 ? asked : 0;
  const claimed = query.get(eventsQuery.instance);
  const otherInstance = claimed !== null && claimed !== '' && claimed !== instance;
  const fromTheFuture = from > reader.events(0, 0).lastSeq;
  return otherInstance || fromTheFuture ? { from: 0, reset: from > 0 } : { from, reset: false };
}

/**
 * Streams one reader as Server-Sent Events: a hello, the snapshot, the journal from `from`, then
 * every change. Flushes are coalesced: changes only mark the stream dirty; a flush writes the
 * newest snapshot (if its version moved) and the journal since the last id sent, straight from the
 * ring. While the socket buffer is full nothing queues up in memory; what was dropped from the ring
 * meanwhile is announced as a gap.
 */
export function streamEvents(
  res: ServerResponse,
  reader: AgentReader,
  start: { from: number; reset: boolean },
  options: EventStreamOptions,
): () => void {
  const batch = options.batch ?? 256;
  let sentSeq = start.from;
  let sentVersion = -1;
  let scheduled: ReturnType<typeof setImmediate> | undefined;
  let draining = false;
  let closed = false;

  const write = (event: string, data: unknown, id?: number): void => {
    res.write(`${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };

  const flush = (): void => {
    scheduled = undefined;
    if (closed || draining) return;
    const snapshot = reader.getSnapshot();
    if (snapshot.version !== sentVersion) {
      sentVersion = snapshot.version;
      write(sseEvent.snapshot, snapshot);
    }
    for (;;) {
      const slice = reader.events(sentSeq, batch);
      const first = slice.events[0];
      if (slice.gap) {
        const gap: WireGap = { after: sentSeq, firstSeq: first?.seq ?? slice.lastSeq + 1 };
        write(sseEvent.gap, gap);
        sentSeq = gap.firstSeq - 1;
      }
      for (const event of slice.events) {
        write(sseEvent.journal, event, event.seq);
        sentSeq = event.seq;
      }
      if (res.writableNeedDrain) {
        draining = true;
        res.once('drain', () => {
          draining = false;
          flush();
        });
        return;
      }
      if (slice.events.length < batch) return;
    }
  };

  const schedule = (): void => {
    scheduled ??= setImmediate(flush);
  };

  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    [headers.instance]: options.instance,
    [headers.protocol]: String(PROTOCOL_VERSION),
  });
  const hello: WireHello = {
    protocol: PROTOCOL_VERSION,
    agent: reader.name,
    instance: options.instance,
    resumeFrom: start.from,
    reset: start.reset,
    lastSeq: reader.events(0, 0).lastSeq,
  };
  write(sseEvent.hello, hello);
  const unsubscribe = reader.subscribe(schedule);
  const heartbeat = setInterval(() => {
    if (!draining) res.write(': heartbeat\n\n');
  }, options.heartbeatMs);
  heartbeat.unref();
  flush();

  const stop = (): void => {
    if (closed) return;
    closed = true;
    unsubscribe();
    clearInterval(heartbeat);
    if (scheduled !== undefined) clearImmediate(scheduled);
    res.end();
  };
  res.once('close', stop);
  return stop;
}
