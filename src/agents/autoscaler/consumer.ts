import type { StreamEntry } from '../adapters/redis.js';
import { backoffDelay, type BackoffPolicy } from '../kernel/backoff.js';
import type { AgentContext } from '../kernel/context.js';
import { errorKind, errorMessage, PgdeckError } from '../kernel/errors.js';
import { actOnEntry, type EntryActContext } from './act.js';
import { decideEntry, inFlight } from './decide/entry.js';
import type { AutoscalerDeps } from './deps.js';
import { parseEntry } from './events.js';
import { observedPods, readTarget } from './observe.js';
import { TokenBucket } from './rate-limit.js';
import type { EntryView, ParsedEntry, TaskPod } from './types.js';

const READ_COUNT = 100;
const retryBackoff: BackoffPolicy = { baseMs: 100, maxMs: 5_000, jitter: 0.3 };
/** A create the informer has not shown after this long is no longer counted in flight by the consumer. */
const SENT_TTL_MS = 60_000;
/** Longest wait for room (or the informer's sync) before deciding again. */
const ROOM_WAIT_MS = 1_000;

/**
 * Reads the scale events of the consumer group and handles each one: parse -> pure decideEntry -> act,
 * then acknowledge. Reads block on the adapter's dedicated connection; after a restart or a failure
 * the consumer's own pending entries come first; entries idle with a dead consumer are claimed with
 * XAUTOCLAIM; at the in-flight limit it stops reading until pods finish. An entry that cannot be
 * parsed, or fails `maxAttempts` times, or was delivered that often, goes to the dead-letter stream.
 */
export class StreamConsumer {
  private readonly bucket: TokenBucket;
  private readonly failures = new Map<string, number>();
  private readonly sent = new Map<string, { pod: TaskPod; at: number }>();
  private readonly scaledAt = new Map<string, number>();
  private lastClaimAt = Number.NEGATIVE_INFINITY;
  private backlog = true;
  private groupReady = false;

  constructor(
    private readonly deps: AutoscalerDeps,
    private readonly ctx: AgentContext,
  ) {
    const c = deps.config;
    this.bucket = new TokenBucket(c.createsPerSecond, c.createBurst, ctx.clock);
  }

  async run(signal: AbortSignal): Promise<void> {
    let errors = 0;
    while (!signal.aborted) {
      try {
        await this.step(signal);
        errors = 0;
      } catch (error) {
        if (signal.aborted) return;
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
  }

  private async step(signal: AbortSignal): Promise<void> {
    const { redis, config } = this.deps;
    if (!this.groupReady) {
      await redis.ensureGroup(config.redis.stream, config.redis.consumerGroup, '$');
      this.groupReady = true;
    }
    await this.untilSynced(signal);
    const batch = await this.next(signal);
    for (const entry of batch) {
      if (signal.aborted) return;
      await this.handle(entry, signal);
    }
    if (batch.length > 0) this.ctx.wake();
  }

  /** Claimed entries first (now and then), then this consumer's own pending ones, then new ones. */
  private async next(signal: AbortSignal): Promise<readonly StreamEntry[]> {
    const { redis, config } = this.deps;
    const { stream, consumerGroup: group } = config.redis;
    const consumer = config.consumer;
    const now = this.ctx.clock.now();
    if (now - this.lastClaimAt >= config.claimIdleMs / 2) {
      this.lastClaimAt = now;
      const claimed = await redis.autoclaim(stream, group, consumer, {
        minIdleMs: config.claimIdleMs,
        count: READ_COUNT,
      });
      await redis.ack(stream, group, claimed.deleted);
      if (claimed.entries.length > 0) return this.screenClaimed(claimed.entries);
    }
    if (this.backlog) {
      const own = await redis.read({
        stream,
        group,
        consumer,
        count: READ_COUNT,
        blockMs: config.blockMs,
        pending: true,
      });
      await redis.ack(stream, group, own.deleted);
      if (own.entries.length > 0) return own.entries;
      this.backlog = false;
    }
    const blockMs = Math.max(10, Math.min(config.blockMs, Math.floor(config.claimIdleMs / 2)));
    const fresh = await redis.read({ stream, group, consumer, count: READ_COUNT, blockMs, signal });
    return fresh.entries;
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

  private async handle(entry: StreamEntry, signal: AbortSignal): Promise<void> {
    const { config } = this.deps;
    const parsed = parseEntry(entry.id, entry.fields, config.podCountLimit, Object.keys(config.targets));
    let waiting = false;
    for (;;) {
      const plan = decideEntry(parsed, await this.view(parsed), config, this.ctx.clock.now());
      if (plan.kind === 'wait') {
        if (!waiting)
          this.ctx.log.info(`backpressure: ${plan.reason}; not reading until pods finish`, { id: entry.id });
        waiting = true;
        await this.untilChange(signal);
        if (signal.aborted) throw new PgdeckError('aborted', 'stopping');
        continue;
      }
      const act: EntryActContext = {
        entry,
        bucket: this.bucket,
        signal,
        created: (name) => this.noteSent(name, parsed),
        scaled: (target) => this.scaledAt.set(target, this.ctx.clock.now()),
      };
      try {
        for (const action of plan.actions) await actOnEntry(this.deps, action, act);
      } catch (error) {
        if (signal.aborted) throw error;
        const attempts = (this.failures.get(entry.id) ?? 0) + 1;
        if (attempts < config.maxAttempts) {
          this.failures.set(entry.id, attempts);
          throw error;
        }
        this.failures.delete(entry.id);
        const reason = `failed ${attempts} times: ${errorKind(error)}: ${errorMessage(error)}`;
        await actOnEntry(this.deps, { kind: 'dead-letter', reason }, act);
        this.ctx.log.warn(`entry ${entry.id} dead-lettered: ${reason}`, { id: entry.id });
        return;
      }
      this.failures.delete(entry.id);
      const severity = plan.actions.some((a) => a.kind === 'dead-letter') ? 'warn' : 'info';
      this.ctx.log[severity](`entry ${entry.id}: ${plan.summary}`, { id: entry.id });
      return;
    }
  }

  private async view(parsed: ParsedEntry): Promise<EntryView> {
    const pods = observedPods(this.deps);
    const seen = new Set(pods.map((p) => p.name));
    const now = this.ctx.clock.now();
    for (const [name, s] of this.sent) if (seen.has(name) || now - s.at > SENT_TTL_MS) this.sent.delete(name);
    const all = [...pods, ...[...this.sent.values()].map((s) => s.pod)];
    const target = parsed.kind === 'event' ? parsed.event.target : undefined;
    const configured = target !== undefined && this.deps.config.targets[target] !== undefined;
    return {
      pods: all,
      inFlight: inFlight(all),
      target: configured ? await readTarget(this.deps, target) : null,
      lastScaledAt: target === undefined ? null : (this.scaledAt.get(target) ?? null),
    };
  }

  private noteSent(name: string, parsed: ParsedEntry): void {
    if (parsed.kind !== 'event') return;
    const index = Number(name.slice(name.lastIndexOf('-') + 1));
    const pod: TaskPod = {
      name,
      taskId: parsed.event.taskId,
      index,
      phase: 'Pending',
      deleting: false,
      finishedAt: null,
    };
    this.sent.set(name, { pod, at: this.ctx.clock.now() });
  }

  private async untilSynced(signal: AbortSignal): Promise<void> {
    while (!signal.aborted && !this.deps.pods.state().synced) await this.untilChange(signal);
  }

  /** Until the task pods change (or a short while passes, or the agent stops). */
  private untilChange(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        unsubscribe();
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ROOM_WAIT_MS);
      const unsubscribe = this.deps.pods.subscribe(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
