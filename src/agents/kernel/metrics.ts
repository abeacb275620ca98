/**
 * What the runtime measures. The Prometheus implementation lives in adapters/ (prom-client is a
 * library, and the kernel imports only node:*); tests and the TUI may use `noMetrics`.
 */
export interface AgentMetrics {
  pass(agent: string, seconds: number, outcome: 'ok' | 'error'): void;
  error(agent: string, kind: string): void;
  action(agent: string, action: string, outcome: 'ok' | 'refused' | 'error'): void;
  gauge(agent: string, name: string, value: number): void;
  stuck(agent: string, stuck: boolean): void;
}

export const noMetrics: AgentMetrics = {
  pass: () => undefined,
  error: () => undefined,
  action: () => undefined,
  gauge: () => undefined,
  stuck: () => undefined,
};
