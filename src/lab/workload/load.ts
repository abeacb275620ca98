import { setTimeout as delay } from 'node:timers/promises';
import { formatTable } from '../../cli/format-table.js';
import { resetProbeTable } from './probe-table.js';
import { percentile, startWriteProbe, type Attempt } from './write-probe.js';

export interface LoadSummary {
  readonly seconds: number;
  readonly acked: number;
  readonly failed: number;
  /** The widest gap between two acknowledged writes (ms): the outage a client saw. */
  readonly maxGapMs: number;
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
}

export function summarize(attempts: readonly Attempt[], seconds: number): LoadSummary {
  const acked = attempts.filter((a) => a.ok);
  let maxGap = 0;
  for (let i = 1; i < acked.length; i++) maxGap = Math.max(maxGap, acked[i]!.end - acked[i - 1]!.end);
  const latencies = acked.map((a) => a.end - a.start);
  return {
    seconds,
    acked: acked.length,
    failed: attempts.length - acked.length,
    maxGapMs: Math.round(maxGap),
    latencyP50Ms: Math.round(percentile(latencies, 50) * 10) / 10,
    latencyP99Ms: Math.round(percentile(latencies, 99) * 10) / 10,
  };
}

/** `pgdeck lab load`: the write probe through the write port for `seconds`, then its summary. */
export async function runLoad(writePort: number, seconds: number, output: 'table' | 'json'): Promise<string> {
  await resetProbeTable(writePort);
  const probe = startWriteProbe('127.0.0.1', String(writePort));
  await delay(seconds * 1000);
  await probe.stop();
  const s = summarize(probe.attempts, seconds);
  if (output === 'json') return JSON.stringify(s);
  const rows = Object.entries(s).map(([k, v]) => [k, String(v)]);
  return `${formatTable(['', ''], rows).split('\n').slice(1).join('\n')}\n`;
}
