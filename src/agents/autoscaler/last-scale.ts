import type { AutoscalerDeps } from './deps.js';
import type { AutoscalerConfig, LastScale, ReplicaTarget } from './types.js';

/**
 * The last scale this agent made of each target, as JSON (`{"entryId","at","replicas"}`), in a Redis
 * hash beside its stream, so every replica and a restarted consumer see the cooldown. In Redis, not
 * on the target: the agent's Role may touch a target's scale subresource only, never the object.
 */
export function lastScaleKey(config: AutoscalerConfig): string {
  return `${config.redis.stream}:last-scale`;
}

export function lastScaleField(config: AutoscalerConfig, spec: ReplicaTarget): string {
  return `${spec.kind}/${config.namespace}/${spec.name}`;
}

/** The recorded value read back; anything else (absent, edited by hand into nonsense) is null. */
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

export async function readLastScale(deps: AutoscalerDeps, spec: ReplicaTarget): Promise<LastScale | null> {
  const text = await deps.redis.hashGet(lastScaleKey(deps.config), lastScaleField(deps.config, spec));
  return parseLastScale(text ?? undefined);
}

export async function recordLastScale(deps: AutoscalerDeps, spec: ReplicaTarget, scale: LastScale): Promise<void> {
  await deps.redis.hashSet(lastScaleKey(deps.config), lastScaleField(deps.config, spec), formatLastScale(scale));
}
