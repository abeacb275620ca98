import { z } from 'zod';
import { deadLetterFields } from '../adapters/redis.js';
import type { ActionContext, UserAction } from '../kernel/agent.js';
import { PgdeckError } from '../kernel/errors.js';
import type { ActionPreview, ActionResult } from '../kernel/snapshot.js';
import { TARGET_RESOURCES, type AutoscalerDeps } from './deps.js';
import { eventFields, parseEntry } from './events.js';
import { readTarget } from './observe.js';
import type { AutoscalerConfig, AutoscalerState, ScaleEvent } from './types.js';

type Ctx = ActionContext<AutoscalerConfig, AutoscalerDeps, AutoscalerState>;
type Action<Args> = UserAction<AutoscalerConfig, AutoscalerDeps, AutoscalerState, Args>;

const scaleArgs = z.strictObject({ target: z.string().min(1), replicas: z.number().int().min(0) });
const eventArgs = z.strictObject({
  type: z.enum(['scale_up', 'scale_down']),
  podCount: z.number().int(),
  taskId: z.string(),
  target: z.string().optional(),
});
const idArgs = z.strictObject({ id: z.string().regex(/^\d+-\d+$/, 'a stream entry ID such as 1700000000000-0') });

const refused = (action: string, summary: string, reason: string): ActionPreview => ({
  action,
  allowed: false,
  summary,
  effects: [],
  reason,
});

async function planScale(ctx: Ctx, args: z.infer<typeof scaleArgs>): Promise<ActionPreview> {
  const spec = ctx.config.targets[args.target];
  if (spec === undefined) return refused('scale', `scale ${args.target}`, `no target "${args.target}" is configured`);
  const now = await readTarget(ctx.deps, args.target);
  const summary = `scale ${spec.kind} ${ctx.config.namespace}/${spec.name} from ${now.replicas} to ${args.replicas} replicas`;
  if (args.replicas < spec.min || args.replicas > spec.max)
    return refused('scale', summary, `replicas must stay within ${spec.min}..${spec.max}`);
  return {
    action: 'scale',
    allowed: true,
    summary,
    effects: [`PATCH ${TARGET_RESOURCES[spec.kind].plural}/${spec.name}/scale spec.replicas=${args.replicas}`],
    fields: { from: now.replicas, to: args.replicas, min: spec.min, max: spec.max },
  };
}

function planEvent(
  ctx: Ctx,
  args: z.infer<typeof eventArgs>,
): { preview: ActionPreview; fields: Record<string, string> } {
  const event: ScaleEvent = {
    type: args.type,
    podCount: args.podCount,
    taskId: args.taskId,
    ...(args.target === undefined ? {} : { target: args.target }),
  };
  const fields = eventFields(event);
  const parsed = parseEntry('0-0', fields, ctx.config.podCountLimit, Object.keys(ctx.config.targets));
  const shown = Object.entries(fields)
    .map(([k, v]) => `${k} ${v}`)
    .join(' ');
  const summary = `XADD ${ctx.config.redis.stream} * ${shown}`;
  if (parsed.kind === 'malformed') return { preview: refused('send-test-event', summary, parsed.reason), fields };
  return { preview: { action: 'send-test-event', allowed: true, summary, effects: [summary], fields }, fields };
}

async function deadLetterEntry(ctx: Ctx, id: string): Promise<Record<string, string>> {
  const [entry] = await ctx.deps.redis.range(ctx.config.redis.deadLetterStream, { start: id, end: id, count: 1 });
  if (entry === undefined) throw new PgdeckError('not-found', `no entry ${id} in ${ctx.config.redis.deadLetterStream}`);
  return entry.fields;
}

const original = (fields: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(fields).filter(([k]) => !Object.values(deadLetterFields).includes(k)));

const ok = (action: string, message: string, fields?: Record<string, unknown>): ActionResult => ({
  action,
  ok: true,
  message,
  ...(fields === undefined ? {} : { fields }),
});

const scale: Action<z.infer<typeof scaleArgs>> = {
  description: 'scale a configured target through its scale subresource (within min..max)',
  dangerous: true,
  args: scaleArgs,
  argsHelp: '{target: string, replicas: number}',
  preview: planScale,
  invoke: async (ctx, args) => {
    const plan = await planScale(ctx, args);
    if (!plan.allowed) throw new PgdeckError('invalid-argument', plan.reason ?? plan.summary);
    const spec = ctx.config.targets[args.target]!;
    const r = await ctx.deps.objects.patchScale(
      TARGET_RESOURCES[spec.kind],
      ctx.config.namespace,
      spec.name,
      args.replicas,
    );
    if (r.kind === 'requeue') throw new PgdeckError('conflict', r.reason);
    return ok('scale', plan.summary, { replicas: r.object.replicas });
  },
};

const sendTestEvent: Action<z.infer<typeof eventArgs>> = {
  description: 'add a scale event to the stream, as the producers do',
  dangerous: true,
  args: eventArgs,
  argsHelp: '{type: scale_up|scale_down, podCount: number, taskId: string, target?: string}',
  preview: (ctx, args) => Promise.resolve(planEvent(ctx, args).preview),
  invoke: async (ctx, args) => {
    const { preview, fields } = planEvent(ctx, args);
    if (!preview.allowed) throw new PgdeckError('invalid-argument', preview.reason ?? preview.summary);
    const id = await ctx.deps.redis.add(ctx.config.redis.stream, fields);
    return ok('send-test-event', `added ${id} to ${ctx.config.redis.stream}`, { id });
  },
};

const retryDeadLetter: Action<z.infer<typeof idArgs>> = {
  description: 'put a dead-lettered entry back on the stream (as a new entry) and remove it from the dead letters',
  dangerous: true,
  args: idArgs,
  argsHelp: '{id: string}',
  preview: async (ctx, args) => {
    const fields = original(await deadLetterEntry(ctx, args.id));
    return {
      action: 'retry-dead-letter',
      allowed: true,
      summary: `retry dead letter ${args.id} on ${ctx.config.redis.stream}`,
      effects: [`XADD ${ctx.config.redis.stream} * ${Object.entries(fields).flat().join(' ')}`, `XDEL ${args.id}`],
    };
  },
  invoke: async (ctx, args) => {
    const fields = original(await deadLetterEntry(ctx, args.id));
    const id = await ctx.deps.redis.add(ctx.config.redis.stream, fields);
    await ctx.deps.redis.remove(ctx.config.redis.deadLetterStream, [args.id]);
    return ok('retry-dead-letter', `dead letter ${args.id} re-added as ${id}`, { id });
  },
};

const dropDeadLetter: Action<z.infer<typeof idArgs>> = {
  description: 'delete a dead-lettered entry for good',
  dangerous: true,
  args: idArgs,
  argsHelp: '{id: string}',
  preview: async (ctx, args) => {
    const fields = await deadLetterEntry(ctx, args.id);
    return {
      action: 'drop-dead-letter',
      allowed: true,
      summary: `drop dead letter ${args.id} (${fields[deadLetterFields.reason] ?? 'no reason'})`,
      effects: [`XDEL ${ctx.config.redis.deadLetterStream} ${args.id}`],
    };
  },
  invoke: async (ctx, args) => {
    const removed = await ctx.deps.redis.remove(ctx.config.redis.deadLetterStream, [args.id]);
    if (removed === 0)
      throw new PgdeckError('not-found', `no entry ${args.id} in ${ctx.config.redis.deadLetterStream}`);
    return ok('drop-dead-letter', `dead letter ${args.id} dropped`);
  },
};

export const autoscalerActions = {
  scale,
  'send-test-event': sendTestEvent,
  'retry-dead-letter': retryDeadLetter,
  'drop-dead-letter': dropDeadLetter,
};
