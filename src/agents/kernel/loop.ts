import type { AgentDefinition, Decision } from './agent.js';
import { backoffDelay, defaultBackoff, type BackoffPolicy } from './backoff.js';
import type { Clock } from './clock.js';
import { errorKind, errorMessage } from './errors.js';
import type { Logger } from './logger.js';
import type { AgentMetrics } from './metrics.js';
import type { AgentHealth, HealthStatus } from './snapshot.js';
import type { AgentStore } from './store.js';

export interface LoopOptions {
  /** Run a pass at least this often even when nothing wakes the loop. */
  readonly resyncMs: number;
  readonly backoff: BackoffPolicy;
  /** A pass running longer than this is reported stuck (liveness fails until it ends). */
  readonly stuckAfterMs: number;
  readonly random: () => number;
}

export const defaultLoopOptions: LoopOptions = {
  resyncMs: 30_000,
  backoff: defaultBackoff,
  stuckAfterMs: 60_000,
  random: Math.random,
};

export interface LoopParams<C, D, O, A extends { readonly kind: string }, P> {
  readonly definition: AgentDefinition<C, D, O, A, P>;
  readonly config: C;
  readonly deps: D;
  readonly store: AgentStore<P>;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: AgentMetrics;
  readonly options: LoopOptions;
}

/**
 * The level-triggered loop driver: every pass observes, decides and acts; wake-ups only shorten the
 * wait and coalesce into one pass; errors back off exponentially with jitter up to a cap; each pass
 * is timed and ends with exactly one `decided` or `pass-failed` event. It never exits while its
 * signal is live.
 */
export class AgentLoop<C, D, O, A extends { readonly kind: string }, P> {
  private woken = false;
  private release: (() => void) | undefined;
  private lastSummary = '';
  private health: AgentHealth;
  private stuckTimer: ReturnType<typeof setTimeout> | undefined;
  private stuck = false;

  constructor(private readonly p: LoopParams<C, D, O, A, P>) {
    this.health = p.store.getSnapshot().health;
  }

  /** Asks for a pass as soon as possible; many calls before it starts make one pass. */
  wake = (): void => {
    this.woken = true;
    this.release?.();
  };

  async run(signal: AbortSignal): Promise<void> {
    const { options, clock } = this.p;
    const onAbort = (): void => this.release?.();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      while (!signal.aborted) {
        this.woken = false;
        const outcome = await this.pass(signal);
        if (signal.aborted) break;
        if (outcome.error) {
          await clock.sleep(backoffDelay(options.backoff, this.health.consecutiveErrors, options.random), signal);
          continue;
        }
        if (this.woken) continue;
        const waitMs = Math.min(outcome.requeueAfterMs ?? options.resyncMs, options.resyncMs);
        await this.waitForWake(waitMs, signal);
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      this.setHealth({ status: 'stopped', live: false, ready: false });
    }
  }

  private async waitForWake(ms: number, signal: AbortSignal): Promise<void> {
    if (this.woken || signal.aborted) return;
    const inner = new AbortController();
    this.release = () => inner.abort();
    const onOuter = (): void => inner.abort();
    signal.addEventListener('abort', onOuter, { once: true });
    try {
      await this.p.clock.sleep(ms, inner.signal);
    } finally {
      signal.removeEventListener('abort', onOuter);
      this.release = undefined;
    }
  }

  private async pass(signal: AbortSignal): Promise<{ error: boolean; requeueAfterMs?: number }> {
    const { definition, store, clock, metrics } = this.p;
    const started = clock.now();
    this.armStuckTimer(started);
    let decision: Decision<A, P> | undefined;
    try {
      const observed = await definition.observe(this.p.deps, signal);
      const dependencies = definition.reachability(observed);
      decision = definition.decide(observed, clock.now(), this.p.config);
      store.update({ state: decision.publish, summary: decision.summary });
      for (const event of decision.events ?? []) store.record(event);
      for (const action of decision.actions) {
        if (signal.aborted) break;
        await definition.act(this.p.deps, action, signal);
      }
      const ms = clock.now() - started;
      const ready = Object.values(dependencies).every(Boolean);
      this.finishPass(ms, { ok: true, dependencies, ready });
      metrics.pass(definition.name, ms / 1000, 'ok');
      this.recordDecided(decision, ms);
      return {
        error: false,
        ...(decision.requeueAfterMs === undefined ? {} : { requeueAfterMs: decision.requeueAfterMs }),
      };
    } catch (error) {
      const ms = clock.now() - started;
      const kind = errorKind(error);
      const message = errorMessage(error);
      this.finishPass(ms, { ok: false, error: { kind, message } });
      metrics.pass(definition.name, ms / 1000, 'error');
      metrics.error(definition.name, kind);
      if (!signal.aborted) {
        store.record({
          severity: 'warn',
          kind: 'pass-failed',
          message: `pass failed (${kind}): ${message}`,
          fields: {
            passMs: ms,
            consecutiveErrors: this.health.consecutiveErrors,
            ...(decision ? { summary: decision.summary } : {}),
          },
        });
      }
      return { error: true };
    } finally {
      this.disarmStuckTimer();
    }
  }

  private recordDecided(decision: Decision<A, P>, ms: number): void {
    const quiet = decision.actions.length === 0 && decision.summary === this.lastSummary;
    this.lastSummary = decision.summary;
    this.p.store.record({
      severity: quiet ? 'debug' : 'info',
      kind: 'decided',
      message: decision.summary,
      fields: { passMs: ms, actions: decision.actions.map((a) => a.kind) },
    });
  }

  private finishPass(
    ms: number,
    result:
      | { ok: true; dependencies: Record<string, boolean>; ready: boolean }
      | { ok: false; error: { kind: ReturnType<typeof errorKind>; message: string } },
  ): void {
    const h = this.health;
    const passes = h.passes + 1;
    const lastPassAt = this.p.clock.now();
    if (result.ok) {
      const status: HealthStatus = result.ready ? 'ok' : 'degraded';
      this.setHealth({
        status,
        live: true,
        ready: result.ready,
        passes,
        consecutiveErrors: 0,
        lastPassAt,
        lastPassMs: ms,
        dependencies: result.dependencies,
        lastError: undefined,
        stuckSinceMs: undefined,
      });
      return;
    }
    const consecutiveErrors = h.consecutiveErrors + 1;
    const status: HealthStatus = consecutiveErrors >= 3 ? 'failing' : 'degraded';
    this.setHealth({
      status,
      live: true,
      ready: h.ready && consecutiveErrors < 3,
      passes,
      consecutiveErrors,
      lastPassAt,
      lastPassMs: ms,
      lastError: result.error,
      stuckSinceMs: undefined,
    });
  }

  private armStuckTimer(started: number): void {
    const { stuckAfterMs } = this.p.options;
    this.stuckTimer = setTimeout(() => {
      this.stuck = true;
      this.setHealth({ status: 'degraded', live: false, stuckSinceMs: started });
      this.p.metrics.stuck(this.p.definition.name, true);
      this.p.store.record({
        severity: 'error',
        kind: 'pass-stuck',
        message: `a pass has been running for more than ${stuckAfterMs} ms`,
        fields: { startedAt: started, stuckAfterMs },
      });
    }, stuckAfterMs);
    this.stuckTimer.unref();
  }

  private disarmStuckTimer(): void {
    if (this.stuckTimer !== undefined) clearTimeout(this.stuckTimer);
    this.stuckTimer = undefined;
    if (this.stuck) this.p.metrics.stuck(this.p.definition.name, false);
    this.stuck = false;
  }

  private setHealth(patch: Partial<{ -readonly [K in keyof AgentHealth]: AgentHealth[K] }>): void {
    const next = { ...this.health, ...patch };
    for (const key of Object.keys(next) as (keyof AgentHealth)[]) if (next[key] === undefined) delete next[key];
    this.health = Object.freeze(next);
    this.p.store.update({ health: this.health });
  }
}
