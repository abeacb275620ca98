import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AgentReader } from '../kernel/snapshot.js';
import { PROTOCOL_VERSION, eventsQuery, headers, sseEvent, type WireGap, type WireHello } from './protocol.js';
import type { FlushQueue } from './flush-queue.js';
import { sseFrame, type JournalFrames, type Serialize, type SnapshotFeed } from './stream-frames.js';

export interface EventStreamOptions {
  readonly instance: string;
  readonly heartbeatMs: number;
  /** A write the socket has not drained after this long drops the reader. */
  readonly drainTimeoutMs: number;
  /** Journal events per slice: one write, then the stream yields to the event loop. */
  readonly sliceEvents?: number;
  /** A slice ends early once it holds this many characters. */
  readonly sliceChars?: number;
}

/** What the streams of one server share: each event and snapshot is serialized once for all of them. */
export interface StreamShared {
  readonly frames: JournalFrames;
  readonly feed: SnapshotFeed;
  readonly serialize: Serialize;
  /** Streams write in turn, a few ms per event-loop turn. */
  readonly queue: FlushQueue;
}

/** One open stream, as the server's watchdog sees it. */
export interface EventStream {
  /** The reader's end of the connection (to find its socket in the kernel's tables). */
  readonly remotePort: number | undefined;
  /** Bytes written to the socket so far, and how many of them are still in this process's buffers. */
  sent(): { readonly written: number; readonly unsent: number };
  /** Closes the connection: the reader is not keeping up. */
  drop(): void;
  stop(): void;
}

/**
 * Where a stream resumes: `Last-Event-ID` wins over `?since=`. Without a resume point (or with one of
 * another instance, or from the future) it starts from the snapshot and the newest `tail` events.
 */
export function resumePoint(
  req: IncomingMessage,
  query: URLSearchParams,
  reader: AgentReader,
  instance: string,
  tail: number,
): { from: number; reset: boolean } {
  const header = req.headers[headers.lastEventId];
  const raw = typeof header === 'string' && header !== '' ? header : query.get(eventsQuery.since);
  const asked = raw === null ? 0 : Number(raw);
  const from = Number.isSafeInteger(asked) && asked > 0 ? asked : 0;
  const claimed = query.get(eventsQuery.instance);
  const otherInstance = claimed !== null && claimed !== '' && claimed !== instance;
  const last = reader.events(0, 0).lastSeq;
  if (from > 0 && !otherInstance && from <= last) return { from, reset: false };
  const oldest = reader.events(0, 1).events[0]?.seq ?? last + 1;
  return { from: Math.max(0, last - tail, oldest - 1), reset: from > 0 && (otherInstance || from > last) };
}

/**
 * Streams one reader as Server-Sent Events: a hello, the snapshot, the journal after `from`, then
 * every change. Changes only mark the stream dirty (queue it); a flush writes one bounded slice (the
 * newest snapshot if its version moved, then journal events since the last id sent, straight from
 * the ring as shared frames) and queues itself again if there is more. While the socket buffer is full nothing queues up in
 * memory; what the ring dropped meanwhile is announced as a gap; a socket that does not drain within
 * `drainTimeoutMs` is dropped.
 */
export function streamEvents(
  res: ServerResponse,
  reader: AgentReader,
  start: { from: number; reset: boolean },
  shared: StreamShared,
  options: EventStreamOptions,
): EventStream {
  const sliceEvents = options.sliceEvents ?? 100;
  const sliceChars = options.sliceChars ?? 64 * 1024;
  const greeting: WireHello = {
    protocol: PROTOCOL_VERSION,
    agent: reader.name,
    instance: options.instance,
    resumeFrom: start.from,
    reset: start.reset,
    lastSeq: reader.events(0, 0).lastSeq,
  };
  /** Goes out with the first slice: the request handler itself writes nothing. */
  let hello = sseFrame(sseEvent.hello, shared.serialize(greeting));
  let sentSeq = start.from;
  let sentVersion = -1;
  let drainTimer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;

  const send = (text: string): void => {
    if (!res.write(text) && drainTimer === undefined) {
      drainTimer = setTimeout(drop, options.drainTimeoutMs);
      res.once('drain', () => {
        clearTimeout(drainTimer);
        drainTimer = undefined;
        schedule();
      });
    }
  };

  const flush = (): void => {
    if (closed || drainTimer !== undefined) return;
    let out = hello;
    hello = '';
    const snapshot = shared.feed.current();
    if (snapshot.version !== sentVersion) {
      sentVersion = snapshot.version;
      out += snapshot.frame;
    }
    const slice = reader.events(sentSeq, sliceEvents);
    if (slice.gap) {
      const gap: WireGap = { after: sentSeq, firstSeq: slice.events[0]?.seq ?? slice.lastSeq + 1 };
      out += sseFrame(sseEvent.gap, shared.serialize(gap));
      sentSeq = gap.firstSeq - 1;
    }
    let more = slice.events.length === sliceEvents;
    for (const event of slice.events) {
      if (out.length >= sliceChars) {
        more = true;
        break;
      }
      out += shared.frames.frame(event);
      sentSeq = event.seq;
    }
    if (out !== '') send(out);
    if (more) schedule();
  };

  const schedule = (): void => {
    if (!closed) shared.queue.add(flush);
  };

  /** A reset, not a close: the kernel frees the unsent bytes at once instead of probing a closed window. */
  const drop = (): void => {
    const socket = res.socket;
    if (socket === null) res.destroy();
    else socket.resetAndDestroy();
  };

  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    [headers.instance]: options.instance,
    [headers.protocol]: String(PROTOCOL_VERSION),
  });
  const unsubscribe = reader.subscribe(schedule);
  const unrefresh = shared.feed.onRefresh(schedule);
  const heartbeat = setInterval(() => {
    if (drainTimer === undefined) send(': heartbeat\n\n');
  }, options.heartbeatMs);
  heartbeat.unref();
  schedule();

  const stop = (): void => {
    if (closed) return;
    closed = true;
    unsubscribe();
    unrefresh();
    clearInterval(heartbeat);
    clearTimeout(drainTimer);
    shared.queue.delete(flush);
    res.end();
  };
  res.once('close', stop);
  const socket = res.socket;
  return {
    remotePort: socket?.remotePort,
    sent: () => ({ written: socket?.bytesWritten ?? 0, unsent: socket?.writableLength ?? 0 }),
    drop,
    stop,
  };
}
