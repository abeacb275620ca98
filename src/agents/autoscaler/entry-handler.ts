import type { StreamEntry } from '../adapters/redis.js';
import { backoffDelay, type BackoffPolicy } from '../kernel/backoff.js';
import type { AgentContext } from '../kernel/context.js';
import { errorKind, errorMessage, PgdeckError } from '../kernel/errors.js';
import { onAbort } from '../kernel/on-abort.js';
import { AckBatcher } from './ack-batcher.js';
import { actOnEntry, type EntryActContext } from './act.js';
import { decideEntry } from './decide/entry.js';
import type { AutoscalerDeps } from './deps.js';
import { readLastScale } from './last-scale.js';
import { readTarget } from './observe.js';
import { TokenBucket } from './rate-limit.js';
import { taskPodName } from './task-pods.js';
import type { EntryAction, EntryPlan, EntryView, LastScale, ParsedEntry, TargetScale, TaskPod } from './types.js';

type Do = Extract<EntryPlan, { kind: 'do' }>;

const retryBackoff: BackoffPolicy = { baseMs: 100, maxMs: 5_000, jitter: 0.3 };
/** Longest wait for room before deciding again. */
const ROOM_WAIT_MS = 1_000;

/** Kubernetes actions count attempts; Redis ones (ack, dead letter) are retried until done or stopped. */
const inRedis = (a: EntryAction): boolean => a.kind === 'ack' || a.kind === 'dead-letter';

/**
 * Handles one stream entry to its end: parse -> pure decideEntry -> act, then the acknowledgement,
 * which is only sent once the Kubernetes actions succeeded. Pods a decision creates are counted in
 * flight the moment it is made (no await between the view and the count), so entries handled at
 * the same time never pass the limit together. A scale_up that does not fit waits for room; an
 * entry whose actions fail `maxAttempts` times goes to the dead-letter stream.
 */
export class EntryHandler {
  private readonly bucket: TokenBucket;
  private readonly acks: AckBatcher;
  private waitingCount = 0;

  constructor(
    private readonly deps: AutoscalerDeps,
    private readonly ctx: AgentContext,
    private readonly onWaitChange: () => void,
  ) {
    const { config, redis } = deps;
    this.bucket = new TokenBucket(config.createsPerSecond, config.createBurst, ctx.clock);
    this.acks = new AckBatcher((ids) => redis.ack(config.redis.stream, config.redis.consumerGroup, ids));
  }

  /** Entries waiting for room under the in-flight limit (the reader stops reading meanwhile). */
  get waiting(): number {
    return this.waitingCount;
  }

  /** The lane of an entry: events of one task, or of one scale target, are handled in stream order. */
  laneOf(parsed: ParsedEntry): string {
    if (parsed.kind === 'malformed') return `entry:${parsed.id}`;
    const target = parsed.event.target;
    if (target === undefined) return `task:${parsed.event.taskId}`;
    const spec = this.deps.config.targets[target];
    return spec === undefined ? `target:${target}` : `workload:${spec.kind}/${spec.name}`;
  }

  /** Resolves once the entry is acknowledged or dead-lettered, or without either when stopping. */
  async handle(entry: StreamEntry, parsed: ParsedEntry, signal: AbortSignal): Promise<void> {
    const act: EntryActContext = {
      entry,
      bucket: this.bucket,
      signal,
      now: () => this.ctx.clock.now(),
      ack: () => this.acks.ack(entry.id),
    };
    const { maxAttempts } = this.deps.config;
    for (let attempt = 1; ; attempt++) {
      let reserved: string[] = [];
      let plan: Do;
      try {
        ({ plan, reserved } = await this.plan(parsed, signal));
        for (const action of plan.actions) if (!inRedis(action)) await actOnEntry(this.deps, action, act);
      } catch (error) {
        for (const name of reserved) this.deps.index.release(name);
        if (signal.aborted) return;
        const why = `${errorKind(error)}: ${errorMessage(error)}`;
        if (attempt < maxAttempts) {
          this.ctx.log.warn(`entry ${entry.id}: attempt ${attempt} failed (${why}); retrying`, { id: entry.id });
          await this.ctx.clock.sleep(backoffDelay(retryBackoff, attempt, Math.random), signal);
          continue;
        }
        const reason = `failed ${attempt} times: ${why}`;
        if (await this.finish([{ kind: 'dead-letter', reason }], act))
          this.ctx.log.warn(`entry ${entry.id} dead-lettered: ${reason}`, { id: entry.id });
        return;
      }
      if (!(await this.finish(plan.actions.filter(inRedis), act))) return;
      const severity = plan.actions.some((a) => a.kind === 'dead-letter') ? 'warn' : 'info';
      this.ctx.log[severity](`entry ${entry.id}: ${plan.summary}`, { id: entry.id });
      return;
    }
  }

  /**
   * Decides, waiting (without acknowledging) while a scale_up does not fit under the in-flight limit;
   * the pods it creates are reserved in the same synchronous step as the decision.
   */
  private async plan(parsed: ParsedEntry, signal: AbortSignal): Promise<{ plan: Do; reserved: string[] }> {
    let waiting = false;
    try {
      for (;;) {
        const target = await this.targetView(parsed);
        const plan = decideEntry(parsed, this.view(parsed, target), this.deps.config, this.ctx.clock.now());
        if (plan.kind === 'do') return { plan, reserved: this.reserve(plan, parsed) };
        if (!waiting) {
          this.ctx.log.info(`backpressure: ${plan.reason}; not reading until pods finish`, { id: parsed.id });
          waiting = true;
          this.waitingCount += 1;
          this.onWaitChange();
        }
        await this.untilPodsChange(signal);
        if (signal.aborted) throw new PgdeckError('aborted', 'stopping');
      }
    } finally {
      if (waiting) {
        this.waitingCount -= 1;
        this.onWaitChange();
      }
    }
  }

  private async targetView(parsed: ParsedEntry): Promise<{ target: TargetScale | null; lastScale: LastScale | null }> {
    const name = parsed.kind === 'event' ? parsed.event.target : undefined;
    const spec = name === undefined ? undefined : this.deps.config.targets[name];
    if (name === undefined || spec === undefined) return { target: null, lastScale: null };
    const [target, lastScale] = await Promise.all([readTarget(this.deps, name), readLastScale(this.deps, spec)]);
    return { target, lastScale };
  }

  /**
   * Synchronous on purpose: the count of pods in flight and the reservation after it see the same
   * world. Only the entry's own task's pods: the index keeps them by task, so this costs the same
   * with ten pods or ten thousand.
   */
  private view(parsed: ParsedEntry, target: { target: TargetScale | null; lastScale: LastScale | null }): EntryView {
    const { index } = this.deps;
    const taskId = parsed.kind === 'event' && parsed.event.target === undefined ? parsed.event.taskId : undefined;
    const pods = taskId === undefined ? [] : index.ofTask(taskId, this.ctx.clock.now());
    return { pods, inFlight: index.inFlight, ...target };
  }

  /** Counts the pods a plan creates in flight until the informer shows them; returns their names. */
  private reserve(plan: Do, parsed: ParsedEntry): string[] {
    if (parsed.kind !== 'event') return [];
    const names: string[] = [];
    for (const action of plan.actions) {
      if (action.kind !== 'create-pods') continue;
      for (const index of action.indexes) {
        const name = taskPodName(action.taskId, index);
        const pod: TaskPod = {
          name,
          taskId: action.taskId,
          index,
          phase: 'Pending',
          deleting: false,
          finishedAt: null,
        };
        this.deps.index.reserve(pod, this.ctx.clock.now());
        names.push(name);
      }
    }
    return names;
  }

  /** The Redis actions, each retried until done; false when stopped first (the entry stays pending). */
  private async finish(actions: readonly EntryAction[], act: EntryActContext): Promise<boolean> {
    for (const action of actions)
      for (let attempt = 1; ; attempt++) {
        try {
          await actOnEntry(this.deps, action, act);
          break;
        } catch (error) {
          if (act.signal.aborted) return false;
          if (attempt === 1)
            this.ctx.log.warn(`entry ${act.entry.id}: ${action.kind} failed (${errorMessage(error)}); retrying`, {
              id: act.entry.id,
            });
          await this.ctx.clock.sleep(backoffDelay(retryBackoff, attempt, Math.random), act.signal);
        }
      }
    return true;
  }

  /** Until the task pods change (or a short while passes, or the agent stops). */
  private untilPodsChange(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        unsubscribe();
        withdraw();
        resolve();
      };
      const timer = setTimeout(done, ROOM_WAIT_MS);
      const unsubscribe = this.deps.pods.subscribe(done);
      const withdraw = onAbort(signal, done);
    });
  }
}
