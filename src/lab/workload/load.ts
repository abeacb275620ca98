import { setTimeout as delay } from 'node:timers/promises';
import { formatTable } from '../../cli/format-table.js';
import { resetProbeTable } from './probe-table.js';
import { sendScaleStep, type ScaleLane, type ScaleStep } from './scale-events.js';
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

/** What `lab load` did: the write probe's summary and the scale events it put on the autoscaler's stream. */
export interface LoadReport extends LoadSummary {
  readonly scale: readonly ScaleStep[];
  /** Why no scale event was sent (no autoscaler, `--scale 0`); null when they were. */
  readonly scaleSkipped: string | null;
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

/** Scale events with the load: `podCount` pods up on the lab's target when it starts, down again when it ends. */
export type LoadScale =
  | { readonly kind: 'events'; readonly lane: ScaleLane; readonly podCount: number }
  | { readonly kind: 'none'; readonly why: string };

/**
 * `pgdeck lab load`: the write probe through the write port for `seconds`; with a scale lane, a
 * `scale_up` on the autoscaler's stream as the load starts and a `scale_down` as it ends, each
 * waited on until the autoscaler has scaled the target.
 */
export async function runLoad(writePort: number, seconds: number, scale: LoadScale): Promise<LoadReport> {
  await resetProbeTable(writePort);
  const probe = startWriteProbe('127.0.0.1', String(writePort));
  const started = Date.now();
  const steps: ScaleStep[] = [];
  const task = `lab-load-${started}`;
  try {
    if (scale.kind === 'events') steps.push(await sendScaleStep(scale.lane, 'scale_up', scale.podCount, `${task}-up`));
    await delay(Math.max(0, started + seconds * 1000 - Date.now()));
    if (scale.kind === 'events')
      steps.push(await sendScaleStep(scale.lane, 'scale_down', scale.podCount, `${task}-down`));
  } finally {
    await probe.stop();
  }
  return {
    ...summarize(probe.attempts, seconds),
    scale: steps,
    scaleSkipped: scale.kind === 'none' ? scale.why : null,
  };
}

const stepLine = (s: ScaleStep): string =>
  `${s.type} ${s.podCount} (${s.taskId}): ${s.replicasBefore} -> ${s.replicasAfter ?? '?'}` +
  (s.actedMs === null ? ', the autoscaler did not act within the wait' : ` in ${s.actedMs} ms`);

export function renderLoad(r: LoadReport, output: 'table' | 'json'): string {
  if (output === 'json') return JSON.stringify(r);
  const { scale, scaleSkipped, ...summary } = r;
  const rows = Object.entries(summary).map(([k, v]) => [k, String(v)]);
  rows.push(['scale events', scaleSkipped ?? scale.map(stepLine).join('; ')]);
  return `${formatTable(['', ''], rows).split('\n').slice(1).join('\n')}\n`;
}
