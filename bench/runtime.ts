import { performance } from 'node:perf_hooks';
import { setImmediate as tick, setTimeout as sleep } from 'node:timers/promises';
import { startAgent } from '../src/agents/kernel/runtime.js';
import type { AgentStore } from '../src/agents/kernel/store.js';
import { attachAgent } from '../src/agents/wire/attach.js';
import { serveAgent } from '../src/agents/wire/serve.js';
import { counterAgent, counterConfig } from '../test/fixtures/counter-agent.js';
import { childSubscriber } from './lib/child-subscriber.js';
import { readerSubscriber, type Subscriber } from './lib/subscriber.js';
import { newResult, type BenchOptions, type BenchResult } from './report.js';

/**
 * Claim: the journal + SSE path carries agent events to a remote reader fast enough that the TUI
 * never lags an agent. Measures events/s from `store.record` to an attached mirror in another
 * process (a real server, a real HTTP client), and the delay from `store.update` to that mirror
 * seeing it. Peers: the attached mirror in the server's own process, and the in-process reader
 * (no wire), the floor.
 */
const TOKEN = 'bench-token';
const CAPACITY = 5000;
const BATCH = 200;

function record(store: AgentStore, i: number): void {
  store.record({
    severity: 'info',
    kind: 'decided',
    message: `promoting pg${i % 3}: lease of pg0 expired, pg1 has the highest LSN`,
    fields: { passMs: i % 17, actions: ['promote'] },
  });
}

/** Events/s from the producer to `sub`, keeping the producer at most half a ring ahead (no loss). */
async function throughput(store: AgentStore, sub: Subscriber, n: number): Promise<Record<string, number>> {
  const base = store.journal.lastSeq;
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let produced = 0; produced < n; produced += BATCH) {
    const ahead = base + produced - CAPACITY / 2;
    await sub.until(() => sub.lastSeq() >= ahead);
    for (let i = 0; i < BATCH; i++) record(store, produced + i);
    await tick();
  }
  await sub.until(() => sub.lastSeq() >= base + n);
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return { events_per_s: (n / ms) * 1000, server_process_cpu_percent: ((used.user + used.system) / 1000 / ms) * 100 };
}

/** Delay from `store.update` to `sub` showing it, one change at a time, 1-3 ms apart. */
async function latency(store: AgentStore, sub: Subscriber, samples: number): Promise<Record<string, number>> {
  const delays: number[] = [];
  for (let i = 0; i < samples; i++) {
    const summary = `change ${i} ${Math.random()}`;
    const seen = sub.seen(summary);
    const sent = performance.now();
    store.update({ summary });
    delays.push((await seen) - sent);
    await sleep(1 + (i % 3));
  }
  return latencyMetrics(delays);
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function latencyMetrics(delays: number[]): Record<string, number> {
  const sorted = [...delays].sort((a, b) => a - b);
  return {
    latency_p50_ms: percentile(sorted, 50),
    latency_p99_ms: percentile(sorted, 99),
    latency_max_ms: sorted.at(-1) ?? Number.NaN,
  };
}

async function measure(
  store: AgentStore,
  sub: Subscriber,
  events: number,
  samples: number,
): Promise<Record<string, number>> {
  await sub.until(() => sub.lastSeq() >= store.journal.lastSeq);
  await throughput(store, sub, Math.min(5000, events));
  return { ...(await throughput(store, sub, events)), ...(await latency(store, sub, samples)) };
}

export async function run(opts: BenchOptions): Promise<BenchResult> {
  const result = newResult('runtime');
  const events = opts.quick ? 30_000 : 300_000;
  const samples = opts.quick ? 500 : 5000;
  const agent = await startAgent(counterAgent, counterConfig(), {
    journalCapacity: CAPACITY,
    loop: { resyncMs: 3_600_000 },
  });
  const server = await serveAgent(agent, { token: TOKEN });
  try {
    const child = await childSubscriber(server.url, TOKEN);
    Object.assign(result.metrics, await measure(agent.store, child, events, samples));
    await child.close();
    const handle = attachAgent(server.url, { token: TOKEN, journalCapacity: CAPACITY });
    const attached = readerSubscriber(handle.reader);
    await attached.until(() => attached.lastSeq() >= agent.store.journal.lastSeq);
    const gapsBefore = handle.gaps();
    result.peers['attached, same process'] = {
      ...(await measure(agent.store, attached, events, samples)),
      gaps_during_run: handle.gaps() - gapsBefore,
    };
    await handle.close();
    result.peers['in-process (no wire)'] = await measure(agent.store, readerSubscriber(agent.store), events, samples);
    result.metrics['server_rss_mb'] = process.memoryUsage().rss / 2 ** 20;
    result.notes.push(
      `${events} events (${BATCH} per tick, producer kept within ${CAPACITY / 2} of the reader so nothing is dropped), ${samples} latency samples 1-3 ms apart`,
      'pgdeck = startAgent + serveAgent on 127.0.0.1, attachAgent (fetch + SSE + mirror store) in a child process (node --import tsx); its figures include reporting back over a pipe',
      'latency = store.update() to the mirror notifying its subscriber with that snapshot (child: absolute clocks of the two processes)',
      'server_process_cpu_percent counts the server process only (in the same-process peers it includes the client)',
    );
  } finally {
    await server.close();
    await agent.close();
  }
  return result;
}
