import type { AgentCore, Decision } from './agent.js';
import { backoffDelay, defaultBackoff, type BackoffPolicy } from './backoff.js';
import type { Clock } from './clock.js';
import type { PassContexts } from './context.js';
import { errorKind, errorMessage } from './errors.js';
import type { ActGate } from './leader-gate.js';
import type { AgentMemory } from './memory.js';
import type { AgentMetrics } from './metrics.js';
import type { AgentHealth, HealthStatus } from './snapshot.js';
import type { AgentStore } from './store.js';
import { Waiter } from './waiter.js';

export interface LoopOptions {
  /** Run a pass at least this often even when nothing wakes the loop (and resync each key this often). */
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

export type LoopDefinition<C, D, O, A extends { readonly kind: string }, P, M> = Pick<
  AgentCore<C, D, O, A, P, M>,
  'name' | 'observe' | 'memorize' | 'decide' | 'act' | 'reachability'
>;

export interface LoopParams<C, D, O, A extends { readonly kind: string }, P, M extends object> {
  readonly definition: LoopDefinition<C, D, O, A, P, M>;
  readonly config: C;
  readonly deps: D;
  readonly store: AgentStore<P>;
  readonly clock: Clock;
  readonly metrics: AgentMetrics;
  readonly options: LoopOptions;
  readonly memory: AgentMemory<M>;
  readonly contexts: PassContexts<M>;
  /** Lets act run only on the leader (always, for agents without leader election). */
  readonly gate: ActGate;
  /** Called after each successful pass with its observation (a keyed agent lists its keys from it). */
  readonly afterPass?: (observed: O) => void;
}

/**
 * The level-triggered loop driver: every pass observes (reading the memory), decides and acts
 * (recording into it; only while the gate is open); wake-ups only shorten the wait and coalesce into
 * one pass; errors back off exponentially with jitter up to a cap; each pass is timed and ends with
 * exactly one `decided` or `pass-failed` event. It never exits while its signal is live.
 */
export class AgentLoop<C, D, O, A extends { readonly kind: string }, P, M extends object> {
  private readonly waiter: Waiter;
  private lastSummary = '';
  private health: AgentHealth;
  private stuckTimer: ReturnType<typeof setTimeout> | undefined;
  private stuck = false;

  constructor(private readonly p: LoopParams<C, D, O, A, P, M>) {
    this.health = p.store.getSnapshot().health;
    this.waiter = new Waiter(p.clock);
  }

  /** Asks for a pass as soon as possible; many calls before it starts make one pass. */
  wake = (): void => this.waiter.poke();

  async run(signal: AbortSignal): Promise<void> {
    const { options, clock } = this.p;
    try {
      while (!signal.aborted) {
        this.waiter.clear();
        const outcome = await this.pass(signal);
        if (signal.aborted) break;
        if (outcome.error) {
          await clock.sleep(backoffDelay(options.backoff, this.health.consecutiveErrors, options.random), signal);
          continue;
        }
        const waitMs = Math.min(outcome.requeueAfterMs ?? options.resyncMs, options.resyncMs);
        await this.waiter.wait(waitMs, signal);
      }
    } finally {
      this.setHealth({ status: 'stopped', live: false, ready: false });
    }
  }

  private async pass(signal: AbortSignal): Promise<{ error: boolean; requeueAfterMs?: number }> {
    const { definition, store, clock, metrics, gate, contexts, memory } = this.p;
    const started = clock.now();
    this.armStuckTimer(started);
    let decision: Decision<A, P> | undefined;
    try {
      const observed = await definition.observe(this.p.deps, contexts.observe());
      const remembered = definition.memorize?.(observed);
      if (remembered !== undefined) memory.merge(remembered);
      const dependencies = definition.reachability(observed);
      decision = definition.decide(observed, clock.now(), this.p.config);
      store.update({ state: decision.publish, summary: decision.summary });
      for (const event of decision.events ?? []) store.record(event);
      const withheld = decision.actions.length > 0 && !gate.leading();
      if (!withheld)
        for (const action of decision.actions) {
          if (signal.aborted || !gate.leading()) break;
          await definition.act(this.p.deps, action, contexts.act());
        }
      const ms = clock.now() - started;
      const ready = Object.values(dependencies).every(Boolean);
      this.finishPass(ms, { ok: true, dependencies, ready });
      metrics.pass(definition.name, ms / 1000, 'ok');
      this.p.afterPass?.(observed);
      this.recordDecided(decision, ms, withheld);
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

  /** A standby (not leading) withholds its actions: repeating them is no news either. */
  private recordDecided(decision: Decision<A, P>, ms: number, withheld: boolean): void {
    const quiet = (decision.actions.length === 0 || withheld) && decision.summary === this.lastSummary;
    this.lastSummary = decision.summary;
    this.p.store.record({
      severity: quiet ? 'debug' : 'info',
      kind: 'decided',
      message: decision.summary,
      fields: { passMs: ms, actions: decision.actions.map((a) => a.kind), ...(withheld ? { standby: true } : {}) },
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
