import { KUBE_RESOURCES } from '../adapters/kube.js';
import type { StreamEntry } from '../adapters/redis.js';
import type { ActContext } from '../kernel/context.js';
import { PgdeckError } from '../kernel/errors.js';
import { TARGET_RESOURCES, type AutoscalerDeps } from './deps.js';
import type { TokenBucket } from './rate-limit.js';
import { recordLastScale } from './last-scale.js';
import { taskPodManifest } from './task-pods.js';
import type { AutoscalerAction, AutoscalerMemory, EntryAction } from './types.js';

/** What performing an entry's actions needs beyond the adapters. */
export interface EntryActContext {
  readonly entry: StreamEntry;
  readonly bucket: TokenBucket;
  readonly signal: AbortSignal;
  now(): number;
  /** Acknowledges the entry (batched with the others of this turn). */
  ack(): Promise<void>;
}

async function deletePod(deps: AutoscalerDeps, name: string, signal: AbortSignal): Promise<void> {
  await deps.objects.delete({ resource: KUBE_RESOURCES.pods, namespace: deps.config.namespace, name }, { signal });
}

/** Performs one action of an entry, idempotently: a create of an existing pod is no news, a delete of a gone one too. */
export async function actOnEntry(deps: AutoscalerDeps, action: EntryAction, ctx: EntryActContext): Promise<void> {
  const { config, redis, objects } = deps;
  const { stream, consumerGroup } = config.redis;
  switch (action.kind) {
    case 'create-pods':
      await Promise.all(
        action.indexes.map(async (index) => {
          await ctx.bucket.take(ctx.signal);
          if (ctx.signal.aborted) throw new PgdeckError('aborted', 'stopping');
          const manifest = taskPodManifest(config.namespace, action.taskId, index, ctx.entry.id, {
            ...config.pod,
            image: config.agentImage,
          });
          await objects.create(KUBE_RESOURCES.pods, manifest, { signal: ctx.signal });
        }),
      );
      return;
    case 'delete-pods':
      for (const name of action.names) await deletePod(deps, name, ctx.signal);
      return;
    case 'scale-target': {
      const spec = config.targets[action.target];
      if (spec === undefined) throw new PgdeckError('not-found', `target ${action.target} is not configured`);
      // recorded first: a crash after the scale still leaves the cooldown, and a redelivery sets this count again
      const last = { entryId: ctx.entry.id, at: ctx.now(), replicas: action.replicas };
      await recordLastScale(deps, spec, last);
      const result = await objects.patchScale(
        TARGET_RESOURCES[spec.kind],
        config.namespace,
        spec.name,
        action.replicas,
        { signal: ctx.signal },
      );
      if (result.kind === 'requeue') throw new PgdeckError('conflict', result.reason);
      return;
    }
    case 'dead-letter':
      await redis.deadLetter({
        stream,
        group: consumerGroup,
        entry: ctx.entry,
        deadLetterStream: config.redis.deadLetterStream,
        reason: action.reason,
      });
      return;
    case 'ack':
      await ctx.ack();
      return;
    default:
      return action satisfies never;
  }
}

export async function actAutoscaler(
  deps: AutoscalerDeps,
  action: AutoscalerAction,
  ctx: ActContext<AutoscalerMemory>,
): Promise<void> {
  switch (action.kind) {
    case 'delete-finished':
      for (const name of action.names) await deletePod(deps, name, ctx.signal);
      return;
    default:
      return action.kind satisfies never;
  }
}
