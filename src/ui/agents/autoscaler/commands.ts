import type { ModuleCommand, PlanContext, PlannedAction } from '../../module.js';
import { scalersOf, type ScalerEntity, type ScalerRowData } from './rows.js';

/** The task id of the console's test event: the same every time, so resending creates nothing new. */
export const TEST_TASK_ID = 'console-test';

const views = ['autoscaler'];

function scalerFor(ctx: PlanContext): ScalerEntity | string {
  const all = scalersOf(ctx.groups);
  if (ctx.row?.entity !== undefined) {
    const own = all.find((e) => e.group.key === ctx.row?.entity);
    if (own !== undefined) return own;
  }
  if (all.length === 1) return all[0]!;
  return all.length === 0 ? 'no autoscaler is shown' : 'select a row of the autoscaler to act on';
}

function selected<T extends ScalerRowData['type']>(
  ctx: PlanContext,
  type: T,
): { entity: ScalerEntity; data: Extract<ScalerRowData, { type: T }> } | undefined {
  const data = ctx.row?.data as ScalerRowData | undefined;
  if (data?.type !== type) return undefined;
  const entity = scalersOf(ctx.groups).find((e) => e.group.key === ctx.row?.entity);
  return entity === undefined ? undefined : { entity, data: data as Extract<ScalerRowData, { type: T }> };
}

const planned = (e: ScalerEntity, action: string, args: Readonly<Record<string, unknown>>): PlannedAction => ({
  entity: e.group.key,
  target: `autoscaler ${e.model.entity}`,
  action,
  args,
});

function scaleBy(step: number): ModuleCommand['plan'] {
  return (ctx) => {
    const s = selected(ctx, 'target');
    if (s === undefined) return 'select a target row (tab to the targets table) to scale';
    return planned(s.entity, 'scale', { target: s.data.target.name, replicas: s.data.target.replicas + step });
  };
}

export const autoscalerCommands: readonly ModuleCommand[] = [
  {
    id: 'scale-up',
    keys: ['+'],
    label: '+',
    description: 'scale the selected target up by one replica',
    hint: 'scale up',
    dangerous: true,
    views,
    actions: ['scale'],
    plan: scaleBy(1),
  },
  {
    id: 'scale-down',
    keys: ['-'],
    label: '-',
    description: 'scale the selected target down by one replica',
    hint: 'scale down',
    dangerous: true,
    views,
    actions: ['scale'],
    plan: scaleBy(-1),
  },
  {
    id: 'send-test-event',
    keys: ['t'],
    label: 't',
    description: `send a test scale_up event (pod_count 1, task_id ${TEST_TASK_ID})`,
    hint: 'test event',
    dangerous: true,
    views,
    actions: ['send-test-event'],
    plan: (ctx) => {
      const e = scalerFor(ctx);
      return typeof e === 'string'
        ? e
        : planned(e, 'send-test-event', { type: 'scale_up', podCount: 1, taskId: TEST_TASK_ID });
    },
  },
  {
    id: 'retry-dead-letter',
    keys: ['e'],
    label: 'e',
    description: 'put the selected dead letter back on the stream',
    hint: 'retry dead letter',
    dangerous: true,
    views,
    actions: ['retry-dead-letter'],
    plan: (ctx) => {
      const s = selected(ctx, 'dead-letter');
      return s === undefined
        ? 'select a dead letter to retry'
        : planned(s.entity, 'retry-dead-letter', { id: s.data.letter.id });
    },
  },
  {
    id: 'drop-dead-letter',
    keys: ['x'],
    label: 'x',
    description: 'delete the selected dead letter',
    hint: 'drop dead letter',
    dangerous: true,
    views,
    actions: ['drop-dead-letter'],
    plan: (ctx) => {
      const s = selected(ctx, 'dead-letter');
      return s === undefined
        ? 'select a dead letter to drop'
        : planned(s.entity, 'drop-dead-letter', { id: s.data.letter.id });
    },
  },
];
