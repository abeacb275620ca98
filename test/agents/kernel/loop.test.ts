import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import type { Clock } from '../../../src/agents/kernel/clock.js';
import type { ObserveContext } from '../../../src/agents/kernel/context.js';
import { PgdeckError } from '../../../src/agents/kernel/errors.js';
import type { AgentMetrics } from '../../../src/agents/kernel/metrics.js';
import { initialHealth } from '../../../src/agents/kernel/snapshot.js';
import { startAgent, type RunningAgent, type StartOptions } from '../../../src/agents/kernel/runtime.js';
import {
  counterAgent,
  counterConfig,
  type CounterConfig,
  type CounterDeps,
  type CounterMemory,
  type CounterState,
} from '../../fixtures/counter-agent.js';
import { delay, gate, waitFor } from '../../helpers/wait-for.js';

let running: RunningAgent<CounterConfig, CounterDeps, CounterState> | undefined;

afterEach(async () => {
  await running?.close();
  running = undefined;
});

async function start(
  config: Partial<CounterConfig>,
  options: StartOptions = {},
): Promise<RunningAgent<CounterConfig, CounterDeps, CounterState>> {
  running = await startAgent(counterAgent, counterConfig(config), {
    ...options,
    loop: { resyncMs: 60_000, ...options.loop },
  });
  return running;
}

function kinds(agent: RunningAgent<CounterConfig, CounterDeps, CounterState>, kind: string): number {
  return agent.store.events(0).events.filter((e) => e.kind === kind).length;
}

describe('loop driver', () => {
  it('coalesces many wake-ups during a pass into one extra pass', async () => {
    const hold = gate();
    const agent = await start({});
    await waitFor(() => agent.store.getSnapshot().health.passes === 1, 'first pass');
    agent.deps.observeHook = async () => hold.promise;
    agent.wake();
    await waitFor(() => agent.deps.observeCalls === 2, 'second pass to start');
    for (let i = 0; i < 20; i++) agent.deps.poke();
    agent.deps.observeHook = undefined;
    hold.open();
    await waitFor(() => agent.store.getSnapshot().health.passes === 3, 'the coalesced pass');
    await delay(80);
    expect(agent.deps.observeCalls).toBe(3);
  });

  it('resyncs periodically when nothing wakes it, and honours a shorter requeueAfterMs', async () => {
    const agent = await start({}, { loop: { resyncMs: 20 } });
    await delay(200);
    expect(agent.deps.observeCalls).toBeGreaterThanOrEqual(4);
    await agent.close();
    running = await startAgent(counterAgent, counterConfig({ requeueAfterMs: 15 }), { loop: { resyncMs: 60_000 } });
    await delay(200);
    expect(running.deps.observeCalls).toBeGreaterThanOrEqual(4);
  });

  it('backs off exponentially with jitter, capped at maxMs, and resets after a success', async () => {
    const sleeps: number[] = [];
    const clock: Clock = {
      now: () => Date.now(),
      sleep: (ms, signal) => {
        sleeps.push(ms);
        if (ms < 1000) return new Promise((resolve) => setImmediate(resolve));
        return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      },
    };
    const plan = ['fail', 'fail', 'fail', 'fail', 'ok', 'fail', 'fail'];
    const agent = await start(
      {},
      { clock, loop: { resyncMs: 5000, backoff: { baseMs: 10, maxMs: 40, jitter: 0.5 }, random: () => 0.5 } },
    );
    agent.deps.observeHook = async (call) => {
      if (plan[call - 1] === 'fail') throw new PgdeckError('unavailable', 'memory is down');
    };
    await waitFor(() => sleeps.length >= 1, 'first sleep');
    // the first pass may have run before the hook was set: start counting from a clean point
    agent.deps.observeCalls = 0;
    sleeps.length = 0;
    agent.deps.poke();
    await waitFor(() => sleeps.length === 5, 'four backoffs and a resync');
    expect(agent.store.getSnapshot().health.consecutiveErrors).toBe(0);
    agent.deps.poke();
    await waitFor(() => sleeps.length === 8, 'two more backoffs and a resync');
    expect(sleeps).toEqual([8, 15, 30, 30, 5000, 8, 15, 5000]);
    expect(kinds(agent, 'pass-failed')).toBe(6);
  });

  it('reports a stuck pass (pass-stuck event, live=false) and recovers when it ends', async () => {
    const stuckCalls: boolean[] = [];
    const metrics: AgentMetrics = {
      pass: () => undefined,
      error: () => undefined,
      action: () => undefined,
      gauge: () => undefined,
      stuck: (_a, s) => stuckCalls.push(s),
    };
    const hold = gate();
    const agent = await start({}, { metrics, loop: { stuckAfterMs: 30 } });
    await waitFor(() => agent.store.getSnapshot().health.passes === 1, 'first pass');
    agent.deps.observeHook = async () => hold.promise;
    agent.wake();
    await waitFor(() => kinds(agent, 'pass-stuck') === 1, 'pass-stuck event');
    const stuck = agent.store.getSnapshot().health;
    expect(stuck.live).toBe(false);
    expect(stuck.stuckSinceMs).toBeTypeOf('number');
    hold.open();
    await waitFor(() => agent.store.getSnapshot().health.passes === 2, 'the stuck pass to end');
    const recovered = agent.store.getSnapshot().health;
    expect(recovered.live).toBe(true);
    expect(recovered.stuckSinceMs).toBeUndefined();
    expect(stuckCalls).toEqual([true, false]);
  });

  it('records exactly one decided event per successful pass and none for failed ones', async () => {
    const agent = await start({ target: 5, step: 1 });
    await waitFor(() => agent.store.getSnapshot().state?.count === 5, 'count to reach 5');
    agent.deps.observeHook = async (call) => {
      if (call % 2 === 0) throw new Error('flaky');
    };
    for (let i = 0; i < 4; i++) {
      const before = agent.deps.observeCalls;
      agent.wake();
      await waitFor(() => agent.deps.observeCalls > before, 'another pass');
    }
    await waitFor(
      () => kinds(agent, 'decided') + kinds(agent, 'pass-failed') === agent.deps.observeCalls,
      'passes to settle',
    );
    const health = agent.store.getSnapshot().health;
    expect(kinds(agent, 'decided')).toBe(agent.deps.observeCalls - kinds(agent, 'pass-failed'));
    expect(health.passes).toBe(agent.deps.observeCalls);
    expect(kinds(agent, 'pass-failed')).toBeGreaterThan(0);
    const decided = agent.store.events(0).events.find((e) => e.kind === 'decided');
    expect(decided?.fields?.['passMs']).toBeTypeOf('number');
  });

  it('never exits while the signal is live, even when observe always throws', async () => {
    const agent = await start({}, { loop: { backoff: { baseMs: 1, maxMs: 5, jitter: 0 } } });
    agent.deps.observeHook = async () => {
      throw new Error('always broken');
    };
    let stopped = false;
    void agent.stopped.then(() => {
      stopped = true;
    });
    agent.wake();
    await delay(150);
    expect(stopped).toBe(false);
    const health = agent.store.getSnapshot().health;
    expect(health.consecutiveErrors).toBeGreaterThan(5);
    expect(health.status).toBe('failing');
    expect(health.live).toBe(true);
    await agent.close();
    expect(stopped).toBe(true);
    expect(agent.store.getSnapshot().health.status).toBe('stopped');
  });

  it('is ready only after a successful pass with every dependency reachable', async () => {
    expect(initialHealth.ready).toBe(false);
    const agent = await start({ down: ['disk'] });
    await waitFor(() => agent.store.getSnapshot().health.passes >= 1, 'a pass seeing disk down');
    expect(agent.store.getSnapshot().health.dependencies).toEqual({ memory: true, disk: false });
    expect(agent.store.getSnapshot().health).toMatchObject({ ready: false, status: 'degraded', live: true });
    agent.deps.reachable = { memory: true, disk: true };
    agent.wake();
    await waitFor(() => agent.store.getSnapshot().health.ready, 'ready');
    expect(agent.store.getSnapshot().health.status).toBe('ok');
  });

  it('hands the next observe what act recorded and what memorize took from the last observation', async () => {
    const agent = await start({ target: 3, step: 1 });
    await waitFor(() => agent.store.getSnapshot().state?.count === 3, 'count 3, seen by a fourth observe');
    expect(agent.deps.seen.slice(0, 4)).toEqual([
      { increments: 0, lastObservedCount: null },
      { increments: 1, lastObservedCount: 0 },
      { increments: 2, lastObservedCount: 1 },
      { increments: 3, lastObservedCount: 2 },
    ]);
    expect(agent.memory()).toEqual({ increments: 3, lastObservedCount: 3 });
    expect(agent.deps.seen.every((m) => Object.isFrozen(m))).toBe(true);
  });

  it('gives observe no way to write the memory', async () => {
    expectTypeOf<ObserveContext<CounterMemory>>().not.toHaveProperty('remember');
    const contexts: object[] = [];
    running = await startAgent(
      {
        ...counterAgent,
        observe: async (deps, ctx) => {
          contexts.push(ctx);
          return counterAgent.observe(deps, ctx);
        },
      },
      counterConfig(),
      { loop: { resyncMs: 60_000 } },
    );
    await waitFor(() => contexts.length >= 1, 'an observe');
    expect('remember' in contexts[0]!).toBe(false);
    expect(() => {
      (contexts[0] as { memory: { increments: number } }).memory.increments = 99;
    }).toThrow(TypeError);
  });
});
