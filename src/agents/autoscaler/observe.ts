import { deadLetterFields } from '../adapters/redis.js';
import type { ObserveContext } from '../kernel/context.js';
import { errorMessage } from '../kernel/errors.js';
import { finishedTasks } from './decide/pass.js';
import { TARGET_RESOURCES, type AutoscalerDeps } from './deps.js';
import type { AutoscalerMemory, AutoscalerObserved, DeadLetterInfo, StreamObservation, TargetScale } from './types.js';

const LAST_DEAD_LETTERS = 5;

/** Stream length, group lag and pending, consumers, and the dead-letter stream: an outage is data. */
export async function observeStream(deps: AutoscalerDeps): Promise<StreamObservation> {
  const { stream, consumerGroup, deadLetterStream } = deps.config.redis;
  try {
    const [length, groups, consumers, deadLetters, last] = await Promise.all([
      deps.redis.length(stream),
      deps.redis.groups(stream).catch(() => []),
      deps.redis.consumers(stream, consumerGroup).catch(() => []),
      deps.redis.length(deadLetterStream),
      deps.redis.range(deadLetterStream, { reverse: true, count: LAST_DEAD_LETTERS }),
    ]);
    const group = groups.find((g) => g.name === consumerGroup);
    return {
      reachable: true,
      error: null,
      length,
      lag: group?.lag ?? null,
      pending: group?.pending ?? 0,
      consumers: consumers.map((c) => ({ name: c.name, pending: c.pending, idleMs: c.idleMs })),
      deadLetters,
      lastDeadLetters: last.map((e): DeadLetterInfo => ({
        id: e.id,
        originalId: e.fields[deadLetterFields.id] ?? '',
        reason: e.fields[deadLetterFields.reason] ?? '',
        fields: Object.fromEntries(Object.entries(e.fields).filter(([k]) => !k.startsWith('dlq.'))),
      })),
    };
  } catch (error) {
    return {
      reachable: false,
      error: errorMessage(error),
      length: 0,
      lag: null,
      pending: 0,
      consumers: [],
      deadLetters: 0,
      lastDeadLetters: [],
    };
  }
}

export async function readTarget(deps: AutoscalerDeps, name: string): Promise<TargetScale> {
  const spec = deps.config.targets[name];
  if (spec === undefined) throw new Error(`target ${name} is not configured`);
  const scale = await deps.objects.getScale(TARGET_RESOURCES[spec.kind], deps.config.namespace, spec.name);
  return {
    name,
    kind: spec.kind,
    replicas: scale.replicas,
    currentReplicas: scale.currentReplicas,
    min: spec.min,
    max: spec.max,
    resourceVersion: scale.resourceVersion,
  };
}

export async function observeAutoscaler(
  deps: AutoscalerDeps,
  ctx: ObserveContext<AutoscalerMemory>,
): Promise<AutoscalerObserved> {
  const names = Object.keys(deps.config.targets);
  const [stream, targets] = await Promise.all([
    observeStream(deps),
    Promise.all(
      names.map((n) =>
        readTarget(deps, n).then(
          (t) => ({ ok: true as const, t }),
          (error: unknown) => ({ ok: false as const, why: `target ${n}: ${errorMessage(error)}` }),
        ),
      ),
    ),
  ]);
  return {
    stream,
    podsSynced: deps.pods.state().synced,
    pods: deps.index.pods(),
    targets: targets.flatMap((r) => (r.ok ? [r.t] : [])),
    targetErrors: targets.flatMap((r) => (r.ok ? [] : [r.why])),
    reported: ctx.memory.reported,
  };
}

export const memorizeAutoscaler = (observed: AutoscalerObserved): Partial<AutoscalerMemory> => ({
  reported: finishedTasks(observed.pods),
});
