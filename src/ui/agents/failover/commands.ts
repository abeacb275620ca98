import type { ModuleCommand, PlanContext, PlannedAction } from '../../module.js';
import { clustersOf, type ClusterEntity, type MemberData } from './rows.js';

/** The cluster a key acts on: the selected row's own, else the only one shown. */
function clusterFor(ctx: PlanContext): ClusterEntity | string {
  const clusters = clustersOf(ctx.groups);
  if (ctx.row?.entity !== undefined) {
    const own = clusters.find((c) => c.group.key === ctx.row?.entity);
    if (own !== undefined) return own;
    return 'the selected row belongs to no failover cluster';
  }
  if (clusters.length === 1) return clusters[0]!;
  return clusters.length === 0
    ? 'no failover cluster is shown'
    : 'select a row of the cluster to act on (2 lists them)';
}

function selectedReplica(ctx: PlanContext): { cluster: ClusterEntity; name: string } | undefined {
  const data = ctx.row?.data as MemberData | undefined;
  if (data?.type !== 'member' || data.member.role === 'primary') return undefined;
  const cluster = clustersOf(ctx.groups).find((c) => c.group.key === ctx.row?.entity);
  return cluster === undefined ? undefined : { cluster, name: data.member.name };
}

const planned = (c: ClusterEntity, action: string, args: Readonly<Record<string, unknown>> = {}): PlannedAction => ({
  entity: c.group.key,
  target: `cluster ${c.model.cluster}`,
  action,
  args,
});

const memberViews = ['failover'];
const clusterViews = ['failover', 'history', 'overview'];

export const failoverCommands: readonly ModuleCommand[] = [
  {
    id: 'failover',
    keys: ['f'],
    label: 'f',
    description: 'fail over to the selected replica',
    hint: 'fail over',
    dangerous: true,
    views: memberViews,
    actions: ['failover'],
    plan: (ctx) => {
      const r = selectedReplica(ctx);
      return r === undefined
        ? 'select a replica in the Failover view (2) to fail over to'
        : planned(r.cluster, 'failover', { candidate: r.name });
    },
  },
  {
    id: 'switchover',
    keys: ['s'],
    label: 's',
    description: 'switch over (to the selected replica, or the best)',
    hint: 'switch over',
    dangerous: true,
    views: clusterViews,
    actions: ['switchover'],
    plan: (ctx) => {
      const r = selectedReplica(ctx);
      if (r !== undefined) return planned(r.cluster, 'switchover', { candidate: r.name });
      const c = clusterFor(ctx);
      return typeof c === 'string' ? c : planned(c, 'switchover');
    },
  },
  {
    id: 'pause',
    keys: ['p'],
    label: 'p',
    description: "pause or resume the selected cluster's automatic failover",
    hint: 'pause/resume',
    dangerous: true,
    views: clusterViews,
    actions: ['pause', 'resume'],
    plan: (ctx) => {
      const c = clusterFor(ctx);
      if (typeof c === 'string') return c;
      return planned(c, c.model.config?.paused === true ? 'resume' : 'pause');
    },
  },
  {
    id: 'reinit',
    keys: ['r'],
    label: 'r',
    description: 'reinit the selected replica',
    hint: 'reinit',
    dangerous: true,
    views: memberViews,
    actions: ['reinit'],
    plan: (ctx) => {
      const r = selectedReplica(ctx);
      return r === undefined
        ? 'select a replica in the Failover view (2) to reinit'
        : planned(r.cluster, 'reinit', { member: r.name });
    },
  },
];
