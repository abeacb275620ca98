import { setTimeout as delay } from 'node:timers/promises';
import { planSend, sendScaleEvent } from '../../agents/autoscaler/send.js';
import { connectKube, KUBE_RESOURCES, type KubeObject } from '../../agents/adapters/kube.js';
import { PgdeckError } from '../../agents/kernel/errors.js';
import type { TargetScale } from '../../agents/autoscaler/types.js';
import { LAB_STREAM, WORKER_TARGET } from '../stack/agents.js';
import { WORKER_NAMESPACE, WORKER_SET } from '../stack/citus-pods.js';
import type { LabState } from '../stack/state.js';

/** Where `lab load` puts its scale events and how it sees the autoscaler act on them. */
export interface ScaleLane {
  readonly redisHost: string;
  readonly redisPort: number;
  readonly stream: string;
  /** The autoscaler's API (its /state names each target's replicas). */
  readonly autoscalerUrl: string;
  readonly token: string;
  readonly target: string;
  /** The lab's control plane, where the target's replicas are read. */
  readonly kubeconfig: string;
}

/** One scale event `lab load` put on the stream and what the autoscaler made of it. */
export interface ScaleStep {
  readonly type: 'scale_up' | 'scale_down';
  readonly taskId: string;
  readonly entryId: string;
  readonly podCount: number;
  readonly replicasBefore: number;
  /** The target's replicas once the autoscaler acted; null when it did not within the wait. */
  readonly replicasAfter: number | null;
  /** From the XADD to the target's new replicas on the API server (ms). */
  readonly actedMs: number | null;
}

/**
 * The lab's scale lane for `lab load`: its Redis stream and the autoscaler's Citus worker target;
 * a string saying why there is none. `requested` undefined: one pod when the autoscaler runs.
 */
export function scaleLaneOf(state: LabState, requested: number | undefined): ScaleLane | string {
  if (requested === 0) return '--scale 0';
  const by = (name: string) => state.components.find((c) => c.name === name);
  const autoscaler = by('autoscaler');
  const redis = by('redis')?.endpoints.url;
  const kubeconfig = by('kube')?.endpoints.kubeconfig;
  const why =
    autoscaler?.phase !== 'ready' || autoscaler.endpoints.url === undefined
      ? `the autoscaler is ${autoscaler?.phase ?? 'not in this lab'}`
      : by('citus') === undefined
        ? 'the lab has no Citus topology (the autoscaler has no target)'
        : redis === undefined || kubeconfig === undefined
          ? 'the lab has no Redis or no control plane'
          : undefined;
  if (why !== undefined) {
    if (requested === undefined) return why;
    throw new PgdeckError('unavailable', `lab load --scale ${requested}: ${why}`);
  }
  const url = new URL(redis!);
  return {
    redisHost: url.hostname,
    redisPort: Number(url.port),
    stream: LAB_STREAM,
    autoscalerUrl: autoscaler!.endpoints.url!,
    token: state.token,
    target: WORKER_TARGET,
    kubeconfig: kubeconfig!,
  };
}

const ACT_WITHIN_MS = 30_000;
const POLL_MS = 100;

/** The target as the autoscaler last observed it, or null (not running, not observed yet). */
export async function targetScale(lane: ScaleLane): Promise<TargetScale | null> {
  try {
    const res = await fetch(`${lane.autoscalerUrl}/state`, {
      headers: { authorization: `Bearer ${lane.token}` },
      signal: AbortSignal.timeout(2000),
    });
    if (res.status !== 200) return null;
    const snapshot = (await res.json()) as { state?: { targets?: TargetScale[] } };
    return snapshot.state?.targets?.find((t) => t.name === lane.target) ?? null;
  } catch {
    return null;
  }
}

/**
 * XADDs one scale event for the lab's target (as `pgdeck autoscaler send` does) and waits until the
 * target's StatefulSet on the API server has the count the event asks for (clamped to the bounds the
 * autoscaler reports for it).
 */
export async function sendScaleStep(
  lane: ScaleLane,
  type: ScaleStep['type'],
  podCount: number,
  taskId: string,
): Promise<ScaleStep> {
  const target = await targetScale(lane);
  if (target === null)
    throw new PgdeckError(
      'unavailable',
      `the autoscaler at ${lane.autoscalerUrl} does not report target ${lane.target}`,
    );
  const kube = connectKube({ source: { kind: 'kubeconfig', path: lane.kubeconfig } });
  const replicas = async (): Promise<number | null> => {
    const set = await kube
      .objects('pgdeck-lab-load')
      .get<KubeObject>({ resource: KUBE_RESOURCES.statefulSets, namespace: WORKER_NAMESPACE, name: WORKER_SET })
      .catch(() => undefined);
    const n = (set?.spec as { replicas?: unknown } | undefined)?.replicas;
    return typeof n === 'number' ? n : null;
  };
  try {
    const before = (await replicas()) ?? target.replicas;
    const change = type === 'scale_up' ? podCount : -podCount;
    const wanted = Math.min(target.max, Math.max(target.min, before + change));
    const plan = planSend(
      {
        type,
        podCount: String(podCount),
        taskId,
        target: lane.target,
        redisHost: lane.redisHost,
        redisPort: String(lane.redisPort),
        redisStream: lane.stream,
      },
      {},
    );
    const sent = Date.now();
    const entryId = await sendScaleEvent(plan, {});
    const step = { type, taskId, entryId, podCount, replicasBefore: before };
    while (Date.now() - sent < ACT_WITHIN_MS) {
      const now = await replicas();
      if (now === wanted) return { ...step, replicasAfter: now, actedMs: Date.now() - sent };
      await delay(POLL_MS);
    }
    return { ...step, replicasAfter: null, actedMs: null };
  } finally {
    await kube.close();
  }
}
