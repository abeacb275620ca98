import type { BackoffPolicy } from '../kernel/backoff.js';
import { systemClock, type Clock } from '../kernel/clock.js';
import { PgdeckError } from '../kernel/errors.js';
import { moveToDeadLetter, type DeadLetterMove } from './redis-dead-letter.js';
import { RedisLink, type RedisLinkState, type RedisTarget } from './redis-link.js';
import { BlockingReader, type ReadRequest } from './redis-reader.js';
import {
  parseClaim,
  parseConsumers,
  parseEntries,
  parseGroups,
  parsePendingEntries,
  parsePendingSummary,
  type ClaimResult,
  type ConsumerInfo,
  type EntryBatch,
  type GroupInfo,
  type PendingEntry,
  type PendingSummary,
  type StreamEntry,
} from './redis-replies.js';

export { deadLetterFields, type DeadLetterMove } from './redis-dead-letter.js';
export type { RedisFault, RedisLinkState, RedisTarget } from './redis-link.js';
export type { ReadRequest } from './redis-reader.js';
export type {
  ClaimResult,
  ConsumerInfo,
  EntryBatch,
  GroupInfo,
  PendingEntry,
  PendingSummary,
  StreamEntry,
} from './redis-replies.js';

/** Reconnects start at ~100 ms and double up to 5 s; up to half of each delay is taken off at random. */
export const redisReconnectBackoff: BackoffPolicy = { baseMs: 100, maxMs: 5_000, jitter: 0.5 };
const DEFAULT_COMMAND_TIMEOUT_MS = 5_000;

export interface RedisStreamsOptions extends RedisTarget {
  /** Names the two connections in CLIENT LIST (`<name>-commands`, `<name>-reader`). */
  readonly name?: string;
  readonly backoff?: BackoffPolicy;
  readonly commandTimeoutMs?: number;
  readonly clock?: Clock;
  readonly random?: () => number;
  /** Called whenever a connection's state changes. */
  readonly onChange?: () => void;
}

/** The command connection's state at the top level (what observe reports), the blocking reader's beside it. */
export interface RedisState extends RedisLinkState {
  readonly reader: RedisLinkState;
}

/**
 * A Redis Streams consumer-group client for agents: one connection for commands, a dedicated one for
 * blocking XREADGROUP reads. Connection state is data (`state()`); calls fail with a PgdeckError whose
 * kind is `unavailable`, `unauthorized`, `forbidden`, `invalid`, `not-found` or `timeout`, and whose
 * message names what to fix and never holds the password. Only this module family imports ioredis.
 */
export class RedisStreams {
  private readonly commands: RedisLink;
  private readonly blocking: RedisLink;
  private readonly reader: BlockingReader;

  constructor(options: RedisStreamsOptions) {
    const name = options.name ?? 'pgdeck';
    const common = {
      target: options,
      backoff: options.backoff ?? redisReconnectBackoff,
      random: options.random ?? Math.random,
      clock: options.clock ?? systemClock,
      connectTimeoutMs: options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
      onChange: options.onChange ?? (() => undefined),
    };
    this.commands = new RedisLink({
      ...common,
      name: `${name}-commands`,
      commandTimeoutMs: options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
    });
    this.blocking = new RedisLink({ ...common, name: `${name}-reader` });
    this.reader = new BlockingReader(this.blocking);
  }

  state(): RedisState {
    return { ...this.commands.state(), reader: this.blocking.state() };
  }

  /** Waits until both connections are ready; false after `timeoutMs` (state() says why). */
  async waitConnected(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    const [commands, reader] = await Promise.all([
      this.commands.waitReady(timeoutMs, signal),
      this.blocking.waitReady(timeoutMs, signal),
    ]);
    return commands && reader;
  }

  /** Creates the group (and the stream, MKSTREAM) at `startId` (`$`: only new entries); an existing group is fine. */
  async ensureGroup(stream: string, group: string, startId = '$'): Promise<'created' | 'exists'> {
    try {
      await this.commands.client.xgroup('CREATE', stream, group, startId, 'MKSTREAM');
      return 'created';
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('BUSYGROUP')) return 'exists';
      throw this.commands.failure(error, 'XGROUP CREATE', stream, group);
    }
  }

  /**
   * New entries for `consumer` (`>`), waiting up to `blockMs` on the blocking connection; or, with
   * `pending: true`, the consumer's own delivered-but-unacknowledged entries (read these first after a
   * restart). An abort ends a blocked read at once with kind `aborted`.
   */
  read(request: ReadRequest): Promise<EntryBatch> {
    return this.reader.read(request, this.commands);
  }

  async ack(stream: string, group: string, ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    return this.run('XACK', stream, group, () => this.commands.client.xack(stream, group, ...ids));
  }

  /** Claims for `consumer` the entries idle longer than `minIdleMs` (a crashed consumer's), scanning from `start`. */
  async autoclaim(
    stream: string,
    group: string,
    consumer: string,
    options: { minIdleMs: number; count?: number; start?: string },
  ): Promise<ClaimResult> {
    const { minIdleMs, count = 100, start = '0-0' } = options;
    const reply = await this.run('XAUTOCLAIM', stream, group, () =>
      this.commands.client.xautoclaim(stream, group, consumer, minIdleMs, start, 'COUNT', count),
    );
    return parseClaim(reply);
  }

  async pending(stream: string, group: string): Promise<PendingSummary> {
    return parsePendingSummary(
      await this.run('XPENDING', stream, group, () => this.commands.client.xpending(stream, group)),
    );
  }

  /** Pending entries one by one (oldest first), with idle time and delivery count. */
  async pendingEntries(
    stream: string,
    group: string,
    options: { count?: number; minIdleMs?: number; consumer?: string } = {},
  ): Promise<PendingEntry[]> {
    const { count = 100, minIdleMs = 0, consumer } = options;
    const client = this.commands.client;
    const reply = await this.run('XPENDING', stream, group, () =>
      consumer === undefined
        ? client.xpending(stream, group, 'IDLE', minIdleMs, '-', '+', count)
        : client.xpending(stream, group, 'IDLE', minIdleMs, '-', '+', count, consumer),
    );
    return parsePendingEntries(reply);
  }

  /** Appends an entry; with `maxLen`, trims the stream to about that many entries. Returns its ID. */
  async add(
    stream: string,
    fields: Readonly<Record<string, string>>,
    options: { maxLen?: number } = {},
  ): Promise<string> {
    const flat = Object.entries(fields).flat();
    if (flat.length === 0) throw new PgdeckError('invalid-argument', `an entry for stream "${stream}" needs a field`);
    const trim = options.maxLen === undefined ? [] : ['MAXLEN', '~', String(options.maxLen)];
    const id = await this.run('XADD', stream, undefined, () =>
      this.commands.client.xadd(stream, ...trim, '*', ...flat),
    );
    if (id === null) throw new PgdeckError('internal', `XADD to "${stream}" returned no ID`);
    return id;
  }

  /**
   * Moves an entry to `deadLetterStream` with `reason` and where it came from (`deadLetterFields`),
   * and acknowledges it, atomically. Returns the dead-letter entry's ID.
   */
  deadLetter(move: DeadLetterMove): Promise<string> {
    return moveToDeadLetter(this.commands, move);
  }

  /** Entries in the stream; 0 when it does not exist. */
  async length(stream: string): Promise<number> {
    return this.run('XLEN', stream, undefined, () => this.commands.client.xlen(stream));
  }

  /** Every consumer group of the stream with its pending count and lag (XINFO GROUPS). */
  async groups(stream: string): Promise<GroupInfo[]> {
    return parseGroups(
      await this.run('XINFO GROUPS', stream, undefined, () => this.commands.client.xinfo('GROUPS', stream)),
    );
  }

  /** The consumers of a group with their pending counts and idle times (XINFO CONSUMERS). */
  async consumers(stream: string, group: string): Promise<ConsumerInfo[]> {
    return parseConsumers(
      await this.run('XINFO CONSUMERS', stream, group, () => this.commands.client.xinfo('CONSUMERS', stream, group)),
    );
  }

  /**
   * Entries between `start` and `end` (inclusive; `-` and `+` for the ends), oldest first, or newest
   * first with `reverse` (then `start` is the upper end, as XREVRANGE takes it).
   */
  async range(
    stream: string,
    options: { start?: string; end?: string; count?: number; reverse?: boolean } = {},
  ): Promise<StreamEntry[]> {
    const { count = 100, reverse = false } = options;
    const client = this.commands.client;
    const reply = reverse
      ? await this.run('XREVRANGE', stream, undefined, () =>
          client.xrevrange(stream, options.start ?? '+', options.end ?? '-', 'COUNT', count),
        )
      : await this.run('XRANGE', stream, undefined, () =>
          client.xrange(stream, options.start ?? '-', options.end ?? '+', 'COUNT', count),
        );
    return [...parseEntries(reply, reverse ? 'XREVRANGE' : 'XRANGE').entries];
  }

  /** One field of a hash (HGET); null when the key or the field does not exist. */
  async hashGet(key: string, field: string): Promise<string | null> {
    return this.run('HGET', key, undefined, () => this.commands.client.hget(key, field));
  }

  /** Sets one field of a hash (HSET). */
  async hashSet(key: string, field: string, value: string): Promise<void> {
    await this.run('HSET', key, undefined, () => this.commands.client.hset(key, field, value));
  }

  /** Deletes entries from the stream (XDEL); returns how many existed. */
  async remove(stream: string, ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    return this.run('XDEL', stream, undefined, () => this.commands.client.xdel(stream, ...ids));
  }

  /** Closes both connections; a blocked read in progress fails with kind `aborted`. */
  close(): void {
    this.reader.close();
    this.commands.close();
    this.blocking.close();
  }

  private async run<T>(command: string, stream: string, group: string | undefined, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw this.commands.failure(error, command, stream, group);
    }
  }
}
