import type { Clock } from './clock.js';
import type { PassContexts } from './context.js';
import { errorKind, errorMessage } from './errors.js';
import type { ActGate } from './leader-gate.js';
import type { LoopOptions } from './loop.js';
import type { AgentMetrics } from './metrics.js';
import {
  defaultVerdict,
  retryAfter,
  type AnyKeyedReconciler,
  type ErrorVerdict,
  type KeyDecision,
} from './reconcile.js';
import type { KeyPhase, KeyStatus } from './snapshot.js';
import type { AgentStore } from './store.js';
import { Waiter } from './waiter.js';
import { WorkQueue } from './work-queue.js';

export interface KeyedOptions {
  /** Keys reconciled at the same time. */
  readonly concurrency: number;
  /** The keys' status is published at most this often. */
  readonly publishEveryMs: number;
  /** At most this many keys are listed in the snapshot (all are counted). */
  readonly publishKeys: number;
}

export const defaultKeyedOptions: KeyedOptions = { concurrency: 4, publishEveryMs: 100, publishKeys: 50 };

export interface KeyedRunnerParams<C, D, O, M> {
  readonly name: string;
  readonly reconciler: AnyKeyedReconciler<C, D, O, M>;
  readonly config: C;
  readonly deps: D;
  readonly store: AgentStore<unknown>;
  readonly clock: Clock;
  readonly metrics: AgentMetrics;
  readonly gate: ActGate;
  readonly contexts: PassContexts<M>;
  readonly loop: Pick<LoopOptions, 'resyncMs' | 'backoff' | 'random'>;
  readonly options: KeyedOptions;
}

/** How long the runner sleeps with nothing pending (a poke ends it earlier). */
const idleMs = 60_000;
const concern: Record<KeyPhase, number> = { 'gave-up': 0, retrying: 1, pending: 2, ok: 3 };

/**
 * Reconciles the keys of a keyed agent through a WorkQueue, the kube-rs / controller-runtime way: each
 * key is observed, decided and acted on by itself, with its own exponential backoff and the agent's
 * error policy, at most `concurrency` at once, so a failing key never holds the others back. Each
 * reconcile ends with one `decided` (or `reconcile-failed`) event carrying the key; a summary equal
 * to the key's previous one is debug-level. Resyncs each key after its requeue time.
 */
export class KeyedRunner<C, D, O, M> {
  private readonly queue: WorkQueue;
  private readonly status = new Map<string, KeyStatus>();
  private readonly running = new Set<Promise<void>>();
  private readonly waiter: Waiter;
  private dirty = false;
  private publishedAt = 0;

  constructor(private readonly p: KeyedRunnerParams<C, D, O, M>) {
    this.queue = new WorkQueue(p.options.concurrency);
    this.waiter = new Waiter(p.clock);
  }

  /** The keys the agent's last pass listed: new ones run now, known ones keep their schedule, the rest go. */
  sync(keys: readonly string[]): void {
    const listed = new Set(keys);
    for (const key of listed) if (!this.status.has(key)) this.enqueue(key);
    for (const key of [...this.status.keys()])
      if (!listed.has(key)) {
        this.status.delete(key);
        this.queue.forget(key);
        this.dirty = true;
      }
    this.waiter.poke();
  }

  /** Reconciles `key` as soon as a slot is free; once however often it is asked before it starts. */
  enqueue = (key: string): void => {
    if (!this.status.has(key)) this.setStatus({ key, phase: 'pending', summary: 'not reconciled yet', attempts: 0 });
    this.queue.add(key, this.p.clock.now());
    this.waiter.poke();
  };

  /** Reconciles every known key now, given up ones too (this replica has just become the leader). */
  enqueueAll(): void {
    for (const key of this.status.keys()) this.queue.add(key, this.p.clock.now());
    this.waiter.poke();
  }

  async run(signal: AbortSignal): Promise<void> {
    const { clock, options } = this.p;
    try {
      while (!signal.aborted) {
        this.waiter.clear();
        const now = clock.now();
        if (this.dirty && now - this.publishedAt >= options.publishEveryMs) this.publish();
        for (let key = this.queue.take(now); key !== undefined; key = this.queue.take(now)) this.start(key, signal);
        const due = this.queue.processing < options.concurrency ? this.queue.nextAt() : undefined;
        const deadlines = [due, this.dirty ? this.publishedAt + options.publishEveryMs : undefined].filter(
          (t): t is number => t !== undefined,
        );
        await this.waiter.wait(deadlines.length === 0 ? idleMs : Math.max(0, Math.min(...deadlines) - now), signal);
      }
    } finally {
      await Promise.all(this.running);
      this.publish();
    }
  }

  private start(key: string, signal: AbortSignal): void {
    const task: Promise<void> = this.reconcile(key, signal).finally(() => {
      this.running.delete(task);
      this.waiter.poke();
    });
    this.running.add(task);
  }

  private async reconcile(key: string, signal: AbortSignal): Promise<void> {
    const { reconciler, clock, gate, contexts, store } = this.p;
    const started = clock.now();
    try {
      const observed: unknown = await reconciler.observe(this.p.deps, key, contexts.observe());
      const decision: KeyDecision<{ readonly kind: string }> = reconciler.decide(observed, clock.now(), this.p.config);
      for (const event of decision.events ?? []) store.record({ ...event, fields: { key, ...event.fields } });
      const withheld = decision.actions.length > 0 && !gate.leading();
      if (!withheld)
        for (const action of decision.actions) {
          if (signal.aborted || !gate.leading()) break;
          await reconciler.act(this.p.deps, key, action, contexts.act());
        }
      this.succeeded(key, decision, withheld, clock.now() - started);
    } catch (error) {
      if (signal.aborted) this.queue.done(key);
      else this.failed(key, error, clock.now() - started);
    }
  }

  private succeeded(
    key: string,
    decision: KeyDecision<{ readonly kind: string }>,
    withheld: boolean,
    ms: number,
  ): void {
    const before = this.status.get(key);
    if (before === undefined) return this.queue.done(key);
    const now = this.p.clock.now();
    const { resyncMs } = this.p.loop;
    const nextAt = now + Math.min(decision.requeueAfterMs ?? resyncMs, resyncMs);
    const quiet =
      (decision.actions.length === 0 || withheld) && before.phase === 'ok' && before.summary === decision.summary;
    this.setStatus({ key, phase: 'ok', summary: decision.summary, attempts: 0, lastAt: now, nextAt });
    this.queue.done(key, nextAt);
    this.p.store.record({
      severity: quiet ? 'debug' : 'info',
      kind: 'decided',
      message: `${key}: ${decision.summary}`,
      fields: {
        key,
        reconcileMs: ms,
        actions: decision.actions.map((a) => a.kind),
        ...(withheld ? { standby: true } : {}),
      },
    });
  }

  private failed(key: string, error: unknown, ms: number): void {
    const before = this.status.get(key);
    if (before === undefined) return this.queue.done(key);
    const { reconciler, loop, clock } = this.p;
    const attempts = before.attempts + 1;
    let verdict: ErrorVerdict;
    try {
      verdict = reconciler.errorPolicy?.(key, error, attempts) ?? defaultVerdict;
    } catch {
      verdict = defaultVerdict;
    }
    const delay = retryAfter(verdict, attempts, loop.backoff, loop.random);
    const kind = errorKind(error);
    const message = errorMessage(error);
    const now = clock.now();
    const nextAt = delay === null ? undefined : now + delay;
    this.setStatus({
      key,
      phase: delay === null ? 'gave-up' : 'retrying',
      summary: `failed (${kind}): ${message}`,
      attempts,
      lastAt: now,
      ...(nextAt === undefined ? {} : { nextAt }),
      lastError: { kind, message },
    });
    this.queue.done(key, nextAt);
    this.p.metrics.error(this.p.name, kind);
    const then = verdict.kind === 'give-up' ? `given up: ${verdict.reason}` : `retrying in ${delay} ms`;
    this.p.store.record({
      severity: delay === null ? 'error' : 'warn',
      kind: 'reconcile-failed',
      message: `${key}: reconcile failed (${kind}): ${message}; ${then}`,
      fields: { key, kind, attempts, reconcileMs: ms, ...(delay === null ? { gaveUp: true } : { retryInMs: delay }) },
    });
  }

  private setStatus(status: KeyStatus): void {
    this.status.set(status.key, Object.freeze(status));
    this.dirty = true;
  }

  private publish(): void {
    const { store, metrics, name, options, clock } = this.p;
    this.dirty = false;
    this.publishedAt = clock.now();
    const all = [...this.status.values()];
    const counts: Record<KeyPhase, number> = { pending: 0, ok: 0, retrying: 0, 'gave-up': 0 };
    for (const s of all) counts[s.phase] += 1;
    const keys = all
      .sort((a, b) => concern[a.phase] - concern[b.phase] || a.key.localeCompare(b.key))
      .slice(0, options.publishKeys);
    store.update({ reconciles: { total: all.length, counts, keys, omitted: all.length - keys.length } });
    metrics.gauge(name, 'reconcile_keys_failing', counts.retrying + counts['gave-up']);
    metrics.gauge(name, 'reconcile_queue_depth', this.queue.pending);
  }
}
