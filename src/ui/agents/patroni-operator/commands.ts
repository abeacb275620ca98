import type { ModuleCommand, PlanContext, PlannedAction } from '../../module.js';
import type { RowData } from './rows.js';

const VIEWS = ['pgclusters'];

/** The selected row's cluster, when the row is one of this module's (another module's row carries other data). */
function selected(ctx: PlanContext): RowData | undefined {
  const data = ctx.row?.data as Partial<RowData> | undefined;
  const ours = (data?.type === 'cluster' || data?.type === 'member') && typeof data.cluster?.replicas === 'number';
  return ours ? (data as RowData) : undefined;
}

function planned(
  ctx: PlanContext,
  data: RowData,
  action: string,
  args: Record<string, unknown> = {},
): PlannedAction | string {
  const entity = ctx.row?.entity;
  if (entity === undefined) return 'the selected row belongs to no operator';
  const cluster = `${data.cluster.namespace}/${data.cluster.name}`;
  return { entity, target: `PostgresCluster ${cluster}`, action, args: { cluster, ...args } };
}

const needRow = 'select a PostgresCluster or one of its members in the Clusters view';

function scaleBy(delta: number): (ctx: PlanContext) => PlannedAction | string {
  return (ctx) => {
    const data = selected(ctx);
    if (data === undefined) return needRow;
    const replicas = data.cluster.replicas + delta;
    if (replicas < 1) return `${data.cluster.name} has 1 member: a PostgresCluster cannot scale below 1`;
    return planned(ctx, data, 'scale', { replicas });
  };
}

/** The operator's keys: switchover (w), failover (o) to the selected member, restart (x), pause (z), scale (+/-). */
export const operatorCommands: readonly ModuleCommand[] = [
  {
    id: 'pgc-scale-up',
    keys: ['+'],
    label: '+',
    description: 'add a member to the selected PostgresCluster (scale subresource)',
    hint: 'scale up',
    dangerous: true,
    views: VIEWS,
    actions: ['scale'],
    plan: scaleBy(1),
  },
  {
    id: 'pgc-scale-down',
    keys: ['-'],
    label: '-',
    description: 'remove a member from the selected PostgresCluster',
    hint: 'scale down',
    dangerous: true,
    views: VIEWS,
    actions: ['scale'],
    plan: scaleBy(-1),
  },
  {
    id: 'pgc-switchover',
    keys: ['w'],
    label: 'w',
    description: "switch the selected PostgresCluster over (to the selected replica, or Patroni's best)",
    hint: 'switchover',
    dangerous: true,
    views: VIEWS,
    actions: ['switchover'],
    plan: (ctx) => {
      const data = selected(ctx);
      if (data === undefined) return needRow;
      return data.type === 'member' && data.member.role !== 'master'
        ? planned(ctx, data, 'switchover', { candidate: data.member.name })
        : planned(ctx, data, 'switchover');
    },
  },
  {
    id: 'pgc-failover',
    keys: ['o'],
    label: 'o',
    description: 'fail the selected PostgresCluster over to the selected replica',
    hint: 'failover',
    dangerous: true,
    views: VIEWS,
    actions: ['failover'],
    plan: (ctx) => {
      const data = selected(ctx);
      return data?.type === 'member' && data.member.role !== 'master'
        ? planned(ctx, data, 'failover', { candidate: data.member.name })
        : 'select a replica (a member row) to fail over to';
    },
  },
  {
    id: 'pgc-restart',
    keys: ['x'],
    label: 'x',
    description: "restart the selected member's PostgreSQL through Patroni",
    hint: 'restart',
    dangerous: true,
    views: VIEWS,
    actions: ['restart'],
    plan: (ctx) => {
      const data = selected(ctx);
      return data?.type === 'member'
        ? planned(ctx, data, 'restart', { member: data.member.name })
        : 'select a member row to restart';
    },
  },
  {
    id: 'pgc-pause',
    keys: ['z'],
    label: 'z',
    description: 'pause or resume reconciling the selected PostgresCluster',
    hint: 'pause/resume',
    dangerous: true,
    views: VIEWS,
    actions: ['pause', 'resume'],
    plan: (ctx) => {
      const data = selected(ctx);
      if (data === undefined) return needRow;
      return planned(ctx, data, data.cluster.paused ? 'resume' : 'pause');
    },
  },
];
