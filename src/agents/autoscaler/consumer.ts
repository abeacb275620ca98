import type { StreamEntry } from '../adapters/redis.js';
import { backoffDelay, type BackoffPolicy } from '../kernel/backoff.js';
import type { AgentContext } from '../kernel/context.js';
import { errorKind, errorMessage } from '../kernel/errors.js';
import { onAbort } from '../kernel/on-abort.js';
import type { AutoscalerDeps } from './deps.js';
import { EntryHandler } from './entry-handler.js';
import { parseEntry } from './events.js';
import { KeyedLanes } from './lanes.js';

const READ_COUNT = 100;
const retryBackoff: BackoffPolicy = { baseMs: 100, maxMs: 5_000, jitter: 0.3 };
/** Longest wait for room (or the informer's sync) before looking again. */
const ROOM_WAIT_MS = 1_000;

/**
 * Reads the scale events of the consumer group and hands each entry to the EntryHandler, up to
 * `maxEntriesInFlight` at once: one lane per task and per scale target keeps their events in stream
 * order, other lanes go ahead. Reads block on the adapter's dedicated connection (COUNT up to the room
 * left); after a restart or a failure the consumer's own pending entries come first; entries idle with
 * a dead consumer are claimed with XAUTOCLAIM; while an entry waits at the pod limit, or the entry limit
 * is reached, it reads nothing. A claimed entry delivered `maxAttempts` times goes to the dead-letter stream.
 */
export class StreamConsumer {
  private readonly handler: EntryHandler;
  private readonly lanes = new KeyedLanes();
  /** Entries being handled, by ID: a re-read or a claim of one of them is skipped. */
  private readonly handling = new Map<string, Promise<void>>();
  private readonly listeners = new Set<() => void>();
  private lastClaimAt = Number.NEGATIVE_INFINITY;
  private backlog = true;
  private groupReady = false;

  constructor(
    private readonly deps: AutoscalerDeps,
    private readonly ctx: AgentContext,
    /** Asks for a pass of the agent (to publish the stream's figures). */
    private readonly wake: () => void,
  ) {
    this.handler = new EntryHandler(deps, ctx, () => this.notify());
  }

  async run(signal: AbortSignal): Promise<void> {
    let errors = 0;
    while (!signal.aborted) {
      try {
        await this.step(signal);
        errors = 0;
      } catch (error) {
        if (signal.aborted) break;
        errors += 1;
        if (errorMessage(error).includes('NOGROUP')) this.groupReady = false;
        this.backlog = true;
        const delay = backoffDelay(retryBackoff, errors, Math.random);
        this.ctx.log.warn(`stream consumer (${errorKind(error)}): ${errorMessage(error)}; retrying in ${delay} ms`, {
          consumer: this.deps.config.consumer,
        });
        await this.ctx.clock.sleep(delay, signal);
      }
    }
    await Promise.allSettled(this.handling.values());
  }

  private async step(signal: AbortSignal): Promise<void> {
    const { redis, config } = this.deps;
    if (!this.groupReady) {
      await redis.ensureGroup(config.redis.stream, config.redis.consumerGroup, '$');
      this.groupReady = true;
    }
    while (!signal.aborted && !this.hasRoom()) await this.untilNotified(signal);
    if (signal.aborted) return;
    const room = Math.min(READ_COUNT, config.maxEntriesInFlight - this.handling.size);
    const batch = await this.next(signal, room);
    for (const entry of batch) this.dispatch(entry, signal);
    if (batch.length > 0) this.wake();
  }

  /** Room to read: the informer synced, no entry waiting at the pod limit, fewer entries than the limit. */
  private hasRoom(): boolean {
    return (
      this.deps.pods.state().synced &&
      this.handler.waiting === 0 &&
      this.handling.size < this.deps.config.maxEntriesInFlight
    );
  }

  private dispatch(entry: StreamEntry, signal: AbortSignal): void {
    if (this.handling.has(entry.id)) return;
    const { config } = this.deps;
    const parsed = parseEntry(entry.id, entry.fields, config.podCountLimit, Object.keys(config.targets));
    const done = this.lanes
      .run(this.handler.laneOf(parsed), () => this.handler.handle(entry, parsed, signal))
      .catch((error: unknown) =>
        this.ctx.log.warn(`entry ${entry.id}: ${errorMessage(error)}; left pending`, { id: entry.id }),
      )
      .finally(() => {
        this.handling.delete(entry.id);
        this.notify();
      });
    this.handling.set(entry.id, done);
  }

  /** Claimed entries first (now and then), then this consumer's own pending ones, then new ones. */
  private async next(signal: AbortSignal, count: number): Promise<readonly StreamEntry[]> {
    const { redis, config } = this.deps;
    const { stream, consumerGroup: group } = config.redis;
    const consumer = config.consumer;
    const now = this.ctx.clock.now();
    if (now - this.lastClaimAt >= config.claimIdleMs / 2) {
      this.lastClaimAt = now;
      const claimed = await redis.autoclaim(stream, group, consumer, { minIdleMs: config.claimIdleMs, count });
      await redis.ack(stream, group, claimed.deleted);
      const others = claimed.entries.filter((e) => !this.handling.has(e.id));
      if (others.length > 0) return this.screenClaimed(others);
    }
    if (this.backlog) {
      const own = await redis.read({ stream, group, consumer, count, blockMs: config.blockMs, pending: true });
      await redis.ack(stream, group, own.deleted);
      const fresh = own.entries.filter((e) => !this.handling.has(e.id));
      if (fresh.length > 0) return fresh;
      this.backlog = false;
    }
    const blockMs = Math.max(10, Math.min(config.blockMs, Math.floor(config.claimIdleMs / 2)));
    return (await redis.read({ stream, group, consumer, count, blockMs, signal })).entries;
  }

  /** Claimed entries delivered `maxAttempts` times already go to the dead-letter stream, the rest are handled. */
  private async screenClaimed(entries: readonly StreamEntry[]): Promise<readonly StreamEntry[]> {
    const { redis, config } = this.deps;
    const { stream, consumerGroup: group } = config.redis;
    const pending = await redis.pendingEntries(stream, group, { consumer: config.consumer, count: 1000 });
    const deliveries = new Map(pending.map((p) => [p.id, p.deliveries]));
    const keep: StreamEntry[] = [];
    for (const entry of entries) {
      const n = deliveries.get(entry.id) ?? 0;
      if (n <= config.maxAttempts) keep.push(entry);
      else
        await redis.deadLetter({
          stream,
          group,
          entry,
          deadLetterStream: config.redis.deadLetterStream,
          reason: `delivered ${n} times without being acknowledged`,
        });
    }
    this.ctx.log.info(`claimed ${entries.length} idle entr${entries.length === 1 ? 'y' : 'ies'}`, {
      ids: entries.map((e) => e.id),
    });
    return keep;
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  /** Until an entry finishes or stops waiting, the pods change, a short while passes, or the agent stops. */
  private untilNotified(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.listeners.delete(done);
        unsubscribe();
        withdraw();
        resolve();
      };
      const timer = setTimeout(done, ROOM_WAIT_MS);
      this.listeners.add(done);
      const unsubscribe = this.deps.pods.subscribe(done);
      const withdraw = onAbort(signal, done);
    });
  }
}
