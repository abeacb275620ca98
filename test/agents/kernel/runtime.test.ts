import { afterEach, describe, expect, it } from 'vitest';
import { PgdeckError } from '../../../src/agents/kernel/errors.js';
import { startAgent, type RunningAgent } from '../../../src/agents/kernel/runtime.js';
import {
  counterAgent,
  counterConfig,
  type CounterConfig,
  type CounterDeps,
  type CounterState,
} from '../../fixtures/counter-agent.js';
import { delay, waitFor } from '../../helpers/wait-for.js';

let agent: RunningAgent<CounterConfig, CounterDeps, CounterState>;

afterEach(async () => {
  await agent.close();
});

async function rejection(promise: Promise<unknown>): Promise<PgdeckError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof PgdeckError)) throw new Error(`expected a PgdeckError, got ${String(error)}`);
  return error;
}

describe('startAgent control', () => {
  it('lists the actions with their dangerous flag in the snapshot', async () => {
    agent = await startAgent(counterAgent, counterConfig());
    expect(agent.store.getSnapshot().actions).toEqual([
      {
        name: 'bump',
        description: 'raise the target the counter climbs to',
        dangerous: true,
        args: '{by: integer 1..1000}',
      },
      { name: 'note', description: 'attach a note to the published state', dangerous: false, args: '{text: string}' },
    ]);
  });

  it('rejects an unknown action with not-found, also for inherited names', async () => {
    agent = await startAgent(counterAgent, counterConfig());
    expect(await rejection(agent.control.invoke('explode', {}))).toMatchObject({ kind: 'not-found' });
    expect(await rejection(agent.control.preview('toString', {}))).toMatchObject({ kind: 'not-found' });
  });

  it('rejects bad arguments with invalid-argument naming the field', async () => {
    agent = await startAgent(counterAgent, counterConfig());
    const error = await rejection(agent.control.invoke('bump', { by: 'ten' }));
    expect(error).toMatchObject({ kind: 'invalid-argument', field: 'by' });
    expect(error.message).toMatch(/^by: /);
    expect(await rejection(agent.control.preview('note', {}))).toMatchObject({ field: 'text' });
    expect(agent.store.events(0).events.some((e) => e.kind === 'action-invoked')).toBe(false);
  });

  it('previews without changing anything, invokes with an audit trail naming the actor', async () => {
    agent = await startAgent(counterAgent, counterConfig({ target: 2 }));
    await waitFor(() => agent.store.getSnapshot().state?.count === 2, 'count 2');
    const preview = await agent.control.preview('bump', { by: 3 });
    expect(preview).toMatchObject({ action: 'bump', allowed: true, summary: 'raise target from 2 to 5' });
    expect(agent.deps.target).toBe(2);
    const result = await agent.control.invoke('bump', { by: 3 }, { who: 'alice', via: 'test' });
    expect(result).toMatchObject({ ok: true, message: 'target is now 5' });
    const events = agent.store.events(0).events;
    const invoked = events.find((e) => e.kind === 'action-invoked');
    expect(invoked).toMatchObject({
      message: 'alice via test invoked bump',
      fields: { action: 'bump', args: { by: 3 }, actor: { who: 'alice', via: 'test' } },
    });
    expect(events.find((e) => e.kind === 'action-succeeded')?.seq).toBeGreaterThan(invoked!.seq);
    await waitFor(() => agent.store.getSnapshot().state?.count === 5, 'count 5 after the bump woke the loop');
  });

  it('closes the loop and the adapters', async () => {
    agent = await startAgent(counterAgent, counterConfig());
    await agent.close();
    await agent.close();
    expect(agent.deps.closed).toBe(true);
    expect(agent.store.getSnapshot().health.status).toBe('stopped');
  });

  it('owns background tasks: the agent signal ends them, a failure is journaled, close waits before closing the adapters', async () => {
    const order: string[] = [];
    let ticks = 0;
    agent = await startAgent(
      {
        ...counterAgent,
        wakeOn: (_deps, ctx) => {
          ctx.spawn('ticker', async (signal) => {
            while (!signal.aborted) {
              ticks += 1;
              await ctx.clock.sleep(5, signal);
            }
            await delay(20);
            order.push('ticker ended');
          });
          ctx.spawn('broken', async () => {
            throw new Error('boom');
          });
        },
        close: async (deps) => {
          order.push('adapters closed');
          deps.closed = true;
        },
      },
      counterConfig(),
    );
    await waitFor(() => ticks >= 3, 'three ticks');
    await waitFor(
      () => agent.store.events(0).events.some((e) => e.message === 'background task broken failed (internal): boom'),
      'the failure in the journal',
    );
    await agent.close();
    expect(order).toEqual(['ticker ended', 'adapters closed']);
  });
});
