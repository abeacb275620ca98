import type { ModuleCommand, PlanContext, PlannedAction } from '../../module.js';
import type { WorkerData } from './rows.js';

function selected(ctx: PlanContext): { entity: string; data: WorkerData } | undefined {
  const data = ctx.row?.data as WorkerData | undefined;
  const entity = ctx.row?.entity;
  return data?.type === 'citus-worker' && entity !== undefined ? { entity, data } : undefined;
}

function plan(ctx: PlanContext, action: string): PlannedAction | string {
  const s = selected(ctx);
  if (s === undefined) return `select a worker in the Citus view (:citus) to ${action}`;
  if (s.data.worker.nodeid === null) return `${s.data.worker.address} is not in pg_dist_node`;
  return { entity: s.entity, target: `worker ${s.data.worker.address}`, action, args: { worker: s.data.worker.key } };
}

const views = ['citus'];

export const citusCommands: readonly ModuleCommand[] = [
  {
    id: 'citus-drain',
    keys: ['d'],
    label: 'd',
    description: 'drain the selected worker: move its shards off (preview lists them)',
    hint: 'drain',
    dangerous: true,
    views,
    actions: ['drain'],
    plan: (ctx) => plan(ctx, 'drain'),
  },
  {
    id: 'citus-activate',
    keys: ['a'],
    label: 'a',
    description: 're-activate the selected disabled worker',
    hint: 'activate',
    dangerous: false,
    views,
    actions: ['activate'],
    plan: (ctx) => plan(ctx, 'activate'),
  },
  {
    id: 'citus-remove',
    keys: ['x'],
    label: 'x',
    description: 'remove the selected worker from pg_dist_node (its pod must be gone, its shards drained)',
    hint: 'remove',
    dangerous: true,
    views,
    actions: ['remove'],
    plan: (ctx) => plan(ctx, 'remove'),
  },
];
