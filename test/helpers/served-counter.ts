import { createPromMetrics } from '../../src/agents/adapters/prom-metrics.js';
import { startAgent, type RunningAgent, type StartOptions } from '../../src/agents/kernel/runtime.js';
import { serveAgent, type AgentServer, type ServeOptions } from '../../src/agents/wire/serve.js';
import { SseParser, type SseMessage } from '../../src/agents/wire/sse-parser.js';
import {
  counterAgent,
  counterConfig,
  type CounterConfig,
  type CounterDeps,
  type CounterState,
} from '../fixtures/counter-agent.js';
import { waitFor } from './wait-for.js';

export const TOKEN = 'test-token-0123456789';

export interface ServedCounter {
  readonly agent: RunningAgent<CounterConfig, CounterDeps, CounterState>;
  readonly server: AgentServer;
  close(): Promise<void>;
}

/** The counter agent started in this process and served on 127.0.0.1, port 0. */
export async function serveCounter(
  config: Partial<CounterConfig> = {},
  serve: ServeOptions = { token: TOKEN },
  start: StartOptions = {},
): Promise<ServedCounter> {
  const metrics = createPromMetrics({ defaultMetrics: false });
  const agent = await startAgent(counterAgent, counterConfig(config), {
    metrics,
    loop: { resyncMs: 60_000 },
    ...start,
  });
  const routes = counterAgent.routes?.(agent.deps, () => agent.store.getSnapshot()) ?? [];
  const server = await serveAgent({ ...agent, metricsText: metrics.metricsText, routes }, serve);
  return {
    agent,
    server,
    close: async () => {
      await server.close();
      await agent.close();
    },
  };
}

export interface EventClient {
  readonly messages: SseMessage[];
  readonly raw: () => string;
  readonly status: number;
  journalSeqs(): number[];
  until(check: (messages: readonly SseMessage[]) => boolean, what: string, timeoutMs?: number): Promise<void>;
  close(): void;
}

/** A plain SSE reader of `GET /events`: collects every message (and the raw text) until closed. */
export async function openEvents(
  url: string,
  init: { headers?: Record<string, string>; query?: string } = {},
): Promise<EventClient> {
  const abort = new AbortController();
  const res = await fetch(`${url}/events${init.query ?? ''}`, {
    headers: { authorization: `Bearer ${TOKEN}`, ...init.headers },
    signal: abort.signal,
  });
  const messages: SseMessage[] = [];
  let raw = '';
  const parser = new SseParser();
  const decoder = new TextDecoder();
  const body = res.body;
  const reading = (async () => {
    if (body === null || !res.ok) return;
    for await (const chunk of body) {
      const text = decoder.decode(chunk, { stream: true });
      raw += text;
      messages.push(...parser.push(text));
    }
  })().catch(() => undefined);
  return {
    messages,
    raw: () => raw,
    status: res.status,
    journalSeqs: () => messages.filter((m) => m.event === 'journal').map((m) => Number(m.id)),
    until: (check, what, timeoutMs) => waitFor(() => check(messages), what, timeoutMs),
    close: () => {
      abort.abort();
      void reading;
    },
  };
}
