import { PgdeckError } from '../kernel/errors.js';
import type { RedisLink } from './redis-link.js';
import { parseRead, type EntryBatch } from './redis-replies.js';

export interface ReadRequest {
  readonly stream: string;
  readonly group: string;
  readonly consumer: string;
  readonly count: number;
  /** How long a read of new entries waits for one, in ms (> 0: a read never blocks forever). */
  readonly blockMs: number;
  /** Ends a blocked read at once (kind `aborted`). */
  readonly signal?: AbortSignal;
  /** Read the consumer's own pending entries (ID 0) instead of new ones; never blocks. */
  readonly pending?: boolean;
}

/** Slack beyond BLOCK after which an unanswered read is taken for a dead connection (a silent network). */
const WATCHDOG_GRACE_MS = 2_000;

type Cut = 'aborted' | 'closed' | 'watchdog';

/** The read in progress: why it was cut (if it was), and a signal that ends its wait for a connection. */
interface Current {
  cut: Cut | undefined;
  readonly stop: AbortController;
}

/**
 * Runs XREADGROUP ... BLOCK on its own connection, one read at a time. Redis cannot cancel a blocked
 * command from the same connection, so an abort (or a read unanswered past BLOCK, or close) cuts the
 * connection, which fails the read at once and reconnects with backoff. Entries Redis delivered just
 * as the cut happened stay pending for this consumer: `pending: true` (or XAUTOCLAIM) gets them back.
 */
export class BlockingReader {
  private current: Current | undefined;

  constructor(private readonly link: RedisLink) {}

  async read(request: ReadRequest, commands: RedisLink): Promise<EntryBatch> {
    const { stream, group, consumer, count, signal } = request;
    if (signal?.aborted === true) throw aborted(request);
    if (request.pending === true) {
      try {
        const reply = await commands.client.xreadgroup(
          'GROUP',
          group,
          consumer,
          'COUNT',
          count,
          'STREAMS',
          stream,
          '0',
        );
        return parseRead(reply);
      } catch (error) {
        throw commands.failure(error, 'XREADGROUP', stream, group);
      }
    }
    if (!Number.isInteger(request.blockMs) || request.blockMs <= 0)
      throw new PgdeckError(
        'invalid-argument',
        `blockMs must be a positive whole number of ms, got ${request.blockMs}`,
      );
    if (this.current !== undefined)
      throw new PgdeckError('conflict', 'a blocking read is already running on this connection: read from one loop');
    const current: Current = { cut: undefined, stop: new AbortController() };
    this.current = current;
    const stopWaiting = (): void => current.stop.abort();
    signal?.addEventListener('abort', stopWaiting, { once: true });
    try {
      const ready = await this.link.waitReady(request.blockMs, current.stop.signal);
      if (current.stop.signal.aborted) throw aborted(request);
      if (!ready) throw this.link.downError();
      return await this.blockingRead(request, current);
    } finally {
      signal?.removeEventListener('abort', stopWaiting);
      this.current = undefined;
    }
  }

  /** Marks the read in progress as ended by close; the caller then closes the connection. */
  close(): void {
    if (this.current === undefined) return;
    this.current.cut = 'closed';
    this.current.stop.abort();
  }

  /**
   * The XREADGROUP itself. A cut settles it once the socket has closed (so the server no longer holds
   * the blocked read), even if ioredis were still to wait for the command.
   */
  private async blockingRead(request: ReadRequest, current: Current): Promise<EntryBatch> {
    const { stream, group, consumer, count, blockMs } = request;
    let settleCut: (error: unknown) => void = () => undefined;
    const cut = new Promise<never>((_, reject) => {
      settleCut = reject;
    });
    let dropped = false;
    const cutOff = (why: Cut): void => {
      current.cut ??= why;
      if (dropped) return;
      dropped = true;
      void this.link.drop().then(() => settleCut(current.cut));
    };
    const onStop = (): void => cutOff('aborted');
    const watchdog = setTimeout(() => cutOff('watchdog'), blockMs + WATCHDOG_GRACE_MS);
    current.stop.signal.addEventListener('abort', onStop, { once: true });
    const client = this.link.client;
    try {
      const reading = client.xreadgroup(
        'GROUP',
        group,
        consumer,
        'COUNT',
        count,
        'BLOCK',
        blockMs,
        'STREAMS',
        stream,
        '>',
      );
      return parseRead(await Promise.race([reading, cut]));
    } catch (error) {
      if (current.cut === 'aborted' || current.cut === 'closed') throw aborted(request);
      if (current.cut === 'watchdog')
        throw this.link.failure(
          new PgdeckError(
            'timeout',
            `redis at ${this.link.address} did not answer a read blocking ${blockMs} ms within ${blockMs + WATCHDOG_GRACE_MS} ms; reconnecting`,
          ),
          'XREADGROUP',
          stream,
          group,
        );
      throw this.link.failure(error, 'XREADGROUP', stream, group);
    } finally {
      clearTimeout(watchdog);
      current.stop.signal.removeEventListener('abort', onStop);
    }
  }
}

function aborted(request: ReadRequest): PgdeckError {
  return new PgdeckError('aborted', `read of stream "${request.stream}" for group "${request.group}" aborted`);
}
