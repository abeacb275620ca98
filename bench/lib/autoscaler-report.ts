import type { BenchResult } from '../report.js';
import type { AuditedCreate } from './audit-log.js';

const POLL_MS = 2000;
export const CEILING_PEER = 'raw creates, no agent (ceiling)';
export const POLLING_PEER = '2 s polling (modeled)';

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
}

/** What one phase sent, and when: the bench's XADD times (agent phases only) and the client's send times. */
export interface Phase {
  /** Pod name -> when its event was added (the agent's latency phase). */
  readonly xaddAt?: ReadonlyMap<string, number>;
  /** Pod name -> when the create request left the client. */
  readonly sentAt: ReadonlyMap<string, number>;
}

/** Pod name -> when the API server received its first create. */
function receivedByName(audited: readonly AuditedCreate[]): Map<string, number> {
  const received = new Map<string, number>();
  for (const c of audited) if (!received.has(c.name)) received.set(c.name, c.receivedAt);
  return received;
}

function gaps(from: ReadonlyMap<string, number>, to: ReadonlyMap<string, number>): number[] {
  return [...from].map(([name, at]) => (to.get(name) ?? Number.NaN) - at);
}

/** Latency figures of the agent's one-at-a-time phase, and the raw loop's, from the audit log. */
export function latencyFigures(result: BenchResult, audited: readonly AuditedCreate[], agent: Phase, raw: Phase): void {
  const received = receivedByName(audited);
  const latencies = gaps(agent.xaddAt ?? new Map(), received);
  const sent = gaps(agent.xaddAt ?? new Map(), agent.sentAt);
  result.metrics.xadd_to_create_received_ms_p50 = percentile(latencies, 50);
  result.metrics.xadd_to_create_received_ms_p99 = percentile(latencies, 99);
  result.metrics.xadd_to_create_sent_ms_p50 = percentile(sent, 50);
  result.metrics.xadd_to_create_sent_ms_p99 = percentile(sent, 99);
  const transit = gaps(agent.sentAt, received);
  result.metrics.sent_to_received_ms_p50 = percentile(transit, 50);
  result.metrics.sent_to_received_ms_p99 = percentile(transit, 99);
  const rawTransit = gaps(raw.sentAt, received);
  const ceiling = (result.peers[CEILING_PEER] ??= {});
  ceiling.sent_to_received_ms_p50 = percentile(rawTransit, 50);
  ceiling.sent_to_received_ms_p99 = percentile(rawTransit, 99);
  const polled = latencies.map((l, i) => ((i * 7919) % POLL_MS) + l);
  result.peers[POLLING_PEER] = {
    xadd_to_create_received_ms_p50: percentile(polled, 50),
    xadd_to_create_received_ms_p99: percentile(polled, 99),
  };
}

/** The burst's creates as the API server saw them: rate, and 201s and 409s (exactly once in effect). */
export function burstFigures(result: BenchResult, audited: readonly AuditedCreate[], prefix: string): void {
  const creates = audited.filter((c) => c.name.startsWith(prefix));
  const times = creates.map((c) => c.receivedAt);
  result.metrics.api_creates_per_s = (times.length - 1) / ((Math.max(...times) - Math.min(...times)) / 1000);
  result.metrics.burst_creates_201 = creates.filter((c) => c.code === 201).length;
  result.metrics.burst_creates_409 = creates.filter((c) => c.code === 409).length;
}

/** CPU ms per create of each process over a phase (`used`: ms by process name), as `cpu_ms_per_create_<name>`. */
export function cpuFigures(target: Record<string, number>, used: Readonly<Record<string, number>>, creates: number) {
  let total = 0;
  for (const [name, ms] of Object.entries(used)) {
    target[`cpu_ms_per_create_${name.replace(/[^a-z0-9]+/gi, '_')}`] = ms / creates;
    if (Number.isFinite(ms)) total += ms;
  }
  target.cpu_ms_per_create_total = total / creates;
}
