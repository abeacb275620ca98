import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { AgentDefinition, AnyAgentDefinition } from '../../../src/agents/kernel/agent.js';
import type { LeaderElectorFactory } from '../../../src/agents/kernel/leader.js';
import { startAgent, type RunningAgent } from '../../../src/agents/kernel/runtime.js';
import type { LeadershipInfo } from '../../../src/agents/kernel/snapshot.js';
import { waitFor } from '../../helpers/wait-for.js';
import { keyedCounterAgent, keyedWorld } from './keyed-counter.js';

/**
 * The lease the test's electors share, standing in for a coordination Lease. The electors below are
 * our own implementation of the kernel's LeaderElector interface: a replica takes the lease only when
 * it is free or has expired, renews it while it holds it, and releases it when its signal aborts.
 */
class TestLease {
  holder: string | null = null;
  until = 0;
  releasedAt: number | null = null;
  /** Replicas that cannot reach the lease: they neither renew nor notice anything. */
  readonly partitioned = new Set<string>();
}

function testElectors(lease: TestLease, ttlMs: number, renewMs: number): LeaderElectorFactory {
  return (_agent, instance) => {
    let info: LeadershipInfo = { leading: false, holder: null };
    return {
      current: () => info,
      run: async (signal, onChange) => {
        while (!signal.aborted) {
          if (!lease.partitioned.has(instance)) {
            const now = Date.now();
            if (lease.holder === instance || lease.holder === null || lease.until <= now) {
              lease.holder = instance;
              lease.until = now + ttlMs;
            }
            info = { leading: lease.holder === instance, holder: lease.holder, until: lease.until };
            onChange(info);
          }
          await sleep(renewMs, undefined, { signal }).catch(() => undefined);
        }
        if (lease.holder === instance && !lease.partitioned.has(instance)) {
          lease.holder = null;
          lease.until = 0;
          lease.releasedAt = Date.now();
        }
        info = { leading: false, holder: lease.holder };
        onChange(info);
      },
    };
  };
}

interface Act {
  readonly instance: string;
  /** Who held the lease when the act started. */
  readonly holder: string | null;
  readonly at: number;
}

/** A single-pass agent whose every pass raises a shared value; its act records who acted. */
function ledgerAgent(
  lease: TestLease,
  acts: Act[],
): AgentDefinition<{ instance: string }, { instance: string }, { value: number }, { kind: 'raise' }, number> {
  let value = 0;
  return {
    name: 'ledger',
    description: 'raises a shared value on the leader (test fixture)',
    configSchema: z.object({ instance: z.string() }),
    cliOptions: [],
    identify: (c) => ({ entity: 'ledger', instance: c.instance, label: c.instance }),
    leaderElection: 'kube-lease',
    connect: async (c) => ({ instance: c.instance }),
    observe: async () => ({ value }),
    decide: (o) => ({
      actions: [{ kind: 'raise' }],
      summary: 'raising the value',
      requeueAfterMs: 5,
      publish: o.value,
    }),
    act: async (deps) => {
      acts.push({ instance: deps.instance, holder: lease.holder, at: Date.now() });
      value += 1;
    },
    reachability: () => ({}),
    actions: {},
    close: async () => undefined,
  };
}

const started: RunningAgent<unknown, unknown, unknown>[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((a) => a.close()));
});

async function replica(
  definition: AnyAgentDefinition,
  instance: string,
  electors: LeaderElectorFactory,
): Promise<RunningAgent<unknown, unknown, unknown>> {
  const agent = await startAgent(definition, { instance }, { leaderElector: electors, loop: { resyncMs: 60_000 } });
  started.push(agent);
  return agent;
}

const shapes: { name: string; make: (lease: TestLease) => { definition: AnyAgentDefinition; acts: () => Act[] } }[] = [
  {
    name: 'single-pass',
    make: (lease) => {
      const acts: Act[] = [];
      return { definition: ledgerAgent(lease, acts), acts: () => acts };
    },
  },
  {
    name: 'keyed',
    make: (lease) => {
      const world = keyedWorld(5, 1_000_000);
      world.holder = () => lease.holder;
      return {
        definition: keyedCounterAgent(world, 'kube-lease'),
        acts: () => world.acts.map((a) => ({ instance: a.instance, holder: a.holder, at: 0 })),
      };
    },
  },
];

describe('leader gate', () => {
  it.each(shapes)(
    '$name: only the leader acts, every replica observes and publishes, close hands over',
    async ({ make }) => {
      const ttlMs = 5000;
      const lease = new TestLease();
      const electors = testElectors(lease, ttlMs, 20);
      const { definition, acts } = make(lease);
      const a = await replica(definition, 'a', electors);
      await waitFor(() => a.store.getSnapshot().leadership?.leading === true, 'a to lead');
      const b = await replica(definition, 'b', electors);
      await waitFor(() => b.store.getSnapshot().leadership?.holder === 'a', 'b to see a lead');
      await waitFor(() => acts().length >= 30, 'thirty acts');
      const standbyDecided = (): number =>
        b.store.events(0).events.filter((e) => e.kind === 'decided' && e.fields?.['standby'] === true).length;
      await waitFor(() => standbyDecided() >= 3, 'b to decide (and hold back) three times');

      expect(acts().every((x) => x.instance === 'a' && x.holder === 'a')).toBe(true);
      expect(b.store.getSnapshot().leadership).toMatchObject({ leading: false, holder: 'a' });
      expect(a.store.getSnapshot().leadership?.until).toBeGreaterThan(Date.now());
      expect(b.store.getSnapshot().state).toBeDefined();

      const closing = Date.now();
      await a.close();
      expect(lease.holder).not.toBe('a');
      expect(lease.releasedAt).toBeGreaterThanOrEqual(closing);
      const before = acts().length;
      await waitFor(
        () =>
          acts()
            .slice(before)
            .some((x) => x.instance === 'b'),
        'b to act',
        ttlMs,
      );
      const handoverMs = Date.now() - closing;
      // released, not expired: b took over well inside the lease's TTL
      expect(handoverMs).toBeLessThan(ttlMs / 2);
      expect(
        acts()
          .slice(before)
          .every((x) => x.instance === 'b' && x.holder === 'b'),
      ).toBe(true);
      expect(acts().filter((x) => x.instance !== x.holder)).toEqual([]);
      await waitFor(() => b.store.getSnapshot().leadership?.leading === true, 'b to publish its lead');
      expect(b.store.getSnapshot().leadership?.holder).toBe('b');
      expect(a.store.getSnapshot().leadership?.leading).toBe(false);
      console.log(`${definition.name}: handed over ${handoverMs} ms after close() (lease TTL ${ttlMs} ms)`);
    },
  );

  it('stops acting when its lease runs out, even while its elector has not noticed; the other takes over only after expiry', async () => {
    const ttlMs = 300;
    const lease = new TestLease();
    const electors = testElectors(lease, ttlMs, 20);
    const acts: Act[] = [];
    const definition = ledgerAgent(lease, acts);
    const a = await replica(definition, 'a', electors);
    await waitFor(() => a.store.getSnapshot().leadership?.leading === true, 'a to lead');
    await replica(definition, 'b', electors);
    await waitFor(() => acts.length >= 10, 'ten acts by a');
    lease.partitioned.add('a');
    const until = lease.until;
    await waitFor(() => acts.some((x) => x.instance === 'b'), 'b to act', 3000);
    const lastOfA = Math.max(...acts.filter((x) => x.instance === 'a').map((x) => x.at));
    const firstOfB = Math.min(...acts.filter((x) => x.instance === 'b').map((x) => x.at));
    expect(lastOfA).toBeLessThan(until);
    expect(firstOfB).toBeGreaterThanOrEqual(until);
    expect(a.store.getSnapshot().leadership).toMatchObject({ leading: true, holder: 'a', until });
  });

  it('refuses to start an agent that elects a leader without an elector', async () => {
    const error: unknown = await startAgent(ledgerAgent(new TestLease(), []), { instance: 'a' }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ kind: 'config' });
    expect(String(error)).toMatch(/elects a leader \(kube-lease\) but no leader elector was given/);
  });
});
