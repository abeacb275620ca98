import { Agent as HttpsAgent } from 'node:https';
import { KUBE_RESOURCES, type KubeClient } from '../../src/agents/adapters/kube.js';
import type { TaskPodSpec } from '../../src/agents/autoscaler/types.js';
import { taskPodManifest } from '../../src/agents/autoscaler/task-pods.js';

/** Wall time in ms since the epoch with sub-ms precision (comparable with the API server's timestamps). */
export const epochNow = (): number => performance.timeOrigin + performance.now();

/**
 * Records when each pod create request leaves `kube` (its request counter is called right before the
 * request is handed to the HTTP stack): the agent's "sent" time, and the raw loop's, measured alike.
 */
export function stampCreates(kube: KubeClient): number[] {
  const sent: number[] = [];
  const counter = kube.requests;
  const count = counter.count.bind(counter);
  counter.count = (verb, resource) => {
    if (verb === 'create' && resource === 'pods') sent.push(epochNow());
    count(verb, resource);
  };
  return sent;
}

/** Counts the TLS connections any https.Agent of this process opens; the returned function reads and resets. */
export function countTlsConnections(): () => number {
  let opened = 0;
  const original = HttpsAgent.prototype.createConnection;
  HttpsAgent.prototype.createConnection = function (this: HttpsAgent, ...args: Parameters<typeof original>) {
    opened += 1;
    return original.apply(this, args);
  };
  return () => {
    const n = opened;
    opened = 0;
    return n;
  };
}

export interface CeilingPods {
  readonly kube: KubeClient;
  readonly namespace: string;
  readonly pod: TaskPodSpec;
}

/**
 * The API server's own ceiling, without the agent: pod creates (the agent's manifest, in another
 * namespace) sent by a plain loop through the same kube adapter. Sequential: one at a time, each
 * name's send time and round trip.
 */
export async function sequentialCreates(
  c: CeilingPods,
  count: number,
  prefix: string,
): Promise<{ sentAt: Map<string, number>; roundTrips: number[] }> {
  const objects = c.kube.objects('bench-ceiling');
  const sent = stampCreates(c.kube);
  const sentAt = new Map<string, number>();
  const roundTrips: number[] = [];
  for (let i = 0; i < count; i++) {
    const manifest = taskPodManifest(c.namespace, `${prefix}-${i}`, 0, '0-0', c.pod);
    const before = sent.length;
    const t0 = performance.now();
    await objects.create(KUBE_RESOURCES.pods, manifest);
    roundTrips.push(performance.now() - t0);
    sentAt.set(String(manifest.metadata?.name), sent[before]!);
  }
  return { sentAt, roundTrips };
}

/** `count` creates by `concurrency` loops at once, as fast as the API server answers; creates per second. */
export async function concurrentCreates(
  c: CeilingPods,
  count: number,
  concurrency: number,
  prefix: string,
): Promise<number> {
  const objects = c.kube.objects('bench-ceiling');
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < count; i = next++) {
        const result = await objects.create(
          KUBE_RESOURCES.pods,
          taskPodManifest(c.namespace, `${prefix}-${i}`, 0, '0-0', c.pod),
        );
        if (result.kind !== 'created') throw new Error(`ceiling pod ${prefix}-${i}: ${result.reason}`);
      }
    }),
  );
  return count / ((performance.now() - t0) / 1000);
}
