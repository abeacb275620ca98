import type { KubeObject } from '../adapters/kube.js';
import { TARGET_RESOURCES, type AutoscalerDeps } from './deps.js';
import type { LastScale, ReplicaTarget } from './types.js';

/** On a scale target: the last scale this agent made of it, as JSON (`{"entryId","at","replicas"}`). */
export const LAST_SCALE_ANNOTATION = 'pgdeck.io/autoscaler-last-scale';

/** The annotation's value read back; anything else (absent, edited by hand into nonsense) is null. */
export function parseLastScale(text: string | undefined): LastScale | null {
  if (text === undefined) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const { entryId, at, replicas } = value as Record<string, unknown>;
  if (typeof entryId !== 'string' || typeof at !== 'string' || !Number.isInteger(replicas)) return null;
  const ms = Date.parse(at);
  return Number.isNaN(ms) ? null : { entryId, at: ms, replicas: replicas as number };
}

export function formatLastScale(scale: LastScale): string {
  return JSON.stringify({ entryId: scale.entryId, at: new Date(scale.at).toISOString(), replicas: scale.replicas });
}

/** The target's annotation, read from the object itself (the scale subresource carries no annotations). */
export async function readLastScale(
  deps: AutoscalerDeps,
  spec: ReplicaTarget,
  signal: AbortSignal,
): Promise<LastScale | null> {
  const object = await deps.objects.get(
    { resource: TARGET_RESOURCES[spec.kind], namespace: deps.config.namespace, name: spec.name },
    { signal },
  );
  return parseLastScale(object?.metadata?.annotations?.[LAST_SCALE_ANNOTATION]);
}

/** Sets the annotation by server-side apply as the agent's field manager (it owns that one field only). */
export async function recordLastScale(
  deps: AutoscalerDeps,
  spec: ReplicaTarget,
  scale: LastScale,
  signal: AbortSignal,
): Promise<void> {
  const object: KubeObject = {
    metadata: {
      name: spec.name,
      namespace: deps.config.namespace,
      annotations: { [LAST_SCALE_ANNOTATION]: formatLastScale(scale) },
    },
  };
  await deps.objects.apply(TARGET_RESOURCES[spec.kind], object, { signal });
}
