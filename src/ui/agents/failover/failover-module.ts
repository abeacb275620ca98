import type { AgentSnapshot } from '../../../agents/kernel/snapshot.js';
import type { EntityGroup, EntitySummary, TableRow, UiModule, ViewContext } from '../../module.js';
import { failoverCommands } from './commands.js';
import { historyDetail, memberDetail } from './detail.js';
import { isFailoverState, mergeCluster, type MergedCluster } from './merge.js';
import {
  KIND,
  clusterBanner,
  clustersOf,
  historyColumns,
  historyRows,
  legend,
  memberColumns,
  memberRows,
  type HistoryData,
  type MemberData,
} from './rows.js';

function summarize(group: EntityGroup): EntitySummary {
  const c = group.model as MergedCluster;
  const unreachable = c.members.filter((m) => m.state === 'unreachable').length;
  const leader = c.leader?.name ?? (c.leaderAway === null ? 'none' : `none (${c.leaderAway} away)`);
  const paused = c.config?.paused === true ? ', failover PAUSED' : '';
  const base = `primary ${c.primary ?? 'none'}, leader ${leader}, ${c.members.length} members${unreachable > 0 ? ` (${unreachable} unreachable)` : ''}${paused}`;
  const summary = c.problem === null ? base : `${base} · ${c.problem}`;
  if (!c.live) return { health: 'stale', tone: 'stale', summary: `last known: ${base}` };
  if (c.problem !== null || unreachable > 0 || c.leader === null) return { health: 'degraded', tone: 'warn', summary };
  return { health: 'ok', tone: 'ok', summary };
}

function detail(row: TableRow, ctx: ViewContext): readonly string[] | undefined {
  const data = row.data as MemberData | HistoryData | undefined;
  if (data?.type === 'member') return memberDetail(data, ctx);
  if (data?.type === 'history') return historyDetail(data.entry);
  return undefined;
}

/** The failover agent in the console: its clusters merged from their daemons, History, and f/s/p/r. */
export const failoverModule: UiModule = {
  name: 'failover',
  kind: KIND,
  views: [
    {
      id: 'failover',
      title: 'Failover cluster',
      aliases: ['failover', 'fo', 'members', 'cluster', 'clusters'],
      model: (ctx) => {
        const clusters = clustersOf(ctx.groups);
        return {
          banner: clusters.length === 0 ? [] : [...clusters.map((c) => clusterBanner(c.model)), legend],
          tables: [
            {
              id: 'members',
              columns: memberColumns(clusters.length > 1),
              rows: memberRows(clusters, ctx.now),
              empty: 'no failover daemon: run `pgdeck --agent failover` and attach to it',
            },
          ],
        };
      },
      detail,
    },
    {
      id: 'history',
      title: 'History',
      aliases: ['history', 'hist', 'flight'],
      model: (ctx) => {
        const clusters = clustersOf(ctx.groups);
        return {
          banner: [],
          tables: [
            {
              id: 'history',
              columns: historyColumns(clusters.length > 1),
              rows: historyRows(clusters),
              empty: 'no failover or switchover recorded yet',
            },
          ],
        };
      },
      detail,
    },
  ],
  commands: failoverCommands,
  merge: mergeCluster,
  summarize,
  leads: (snapshot: AgentSnapshot) =>
    isFailoverState(snapshot.state) && snapshot.state.leader?.name === snapshot.state.self,
  describe: (group) => group.model,
};
