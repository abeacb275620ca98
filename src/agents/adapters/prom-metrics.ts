import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AgentMetrics } from '../kernel/metrics.js';

export interface MetricsExposition {
  readonly contentType: string;
  readonly body: string;
}

export interface PromMetrics extends AgentMetrics {
  /** The Prometheus text exposition of this registry (agent metrics plus process defaults). */
  readonly metricsText: () => Promise<MetricsExposition>;
}

/**
 * Kernel metrics on prom-client, in a Registry of its own (never the global one), so several
 * agents or tests in one process do not collide.
 */
export function createPromMetrics(options: { readonly defaultMetrics?: boolean } = {}): PromMetrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const passes = new Counter({
    name: 'pgdeck_agent_passes_total',
    help: 'Loop passes by outcome.',
    labelNames: ['agent', 'outcome'] as const,
    registers,
  });
  const duration = new Histogram({
    name: 'pgdeck_agent_pass_duration_seconds',
    help: 'Duration of one observe/decide/act pass.',
    labelNames: ['agent'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });
  const errors = new Counter({
    name: 'pgdeck_agent_errors_total',
    help: 'Failed passes by error kind.',
    labelNames: ['agent', 'kind'] as const,
    registers,
  });
  const actions = new Counter({
    name: 'pgdeck_agent_actions_total',
    help: 'User actions invoked, by outcome.',
    labelNames: ['agent', 'action', 'outcome'] as const,
    registers,
  });
  const gauges = new Gauge({
    name: 'pgdeck_agent_gauge',
    help: 'Agent-specific values (lag, members, replicas).',
    labelNames: ['agent', 'name'] as const,
    registers,
  });
  const stuck = new Gauge({
    name: 'pgdeck_agent_stuck',
    help: '1 while a pass runs longer than stuckAfterMs.',
    labelNames: ['agent'] as const,
    registers,
  });

  return {
    pass: (agent, seconds, outcome) => {
      passes.inc({ agent, outcome });
      duration.observe({ agent }, seconds);
    },
    error: (agent, kind) => errors.inc({ agent, kind }),
    action: (agent, action, outcome) => actions.inc({ agent, action, outcome }),
    gauge: (agent, name, value) => gauges.set({ agent, name }, value),
    stuck: (agent, isStuck) => stuck.set({ agent }, isStuck ? 1 : 0),
    metricsText: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
  };
}
