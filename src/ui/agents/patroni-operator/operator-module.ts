import type { EntityGroup, EntitySummary, UiModule } from '../../module.js';
import { operatorCommands } from './commands.js';
import {
  KIND,
  clusterColumns,
  clusterRows,
  leads,
  memberColumns,
  memberRows,
  mergeOperator,
  operatorsOf,
  type OperatorModel,
} from './rows.js';

function summarize(group: EntityGroup): EntitySummary {
  const m = group.model as OperatorModel;
  const running = m.clusters.filter((c) => c.phase === 'Running').length;
  const summary = `${m.clusters.length} PostgresCluster(s), ${running} running, leader ${m.leader ?? 'none'}`;
  if (!m.live) return { health: 'stale', tone: 'stale', summary: `last known: ${summary}` };
  return running === m.clusters.length
    ? { health: 'ok', tone: 'ok', summary }
    : { health: 'degraded', tone: 'warn', summary };
}

/** The patroni-operator in the console: the Clusters view (PostgresClusters and their members) and its keys. */
export const operatorModule: UiModule = {
  name: 'patroni-operator',
  kind: KIND,
  views: [
    {
      id: 'pgclusters',
      title: 'PostgresClusters',
      aliases: ['pgc', 'postgresclusters', 'pgclusters'],
      model: (ctx) => {
        const ops = operatorsOf(ctx.groups);
        return {
          banner: ops.map((o) => ({
            key: `leader:${o.group.key}`,
            text: `operator ${o.group.entity}: leader ${o.model.leader ?? 'none'} · ${o.group.sources.length} replica(s)`,
            tone: o.model.live ? 'plain' : 'stale',
          })),
          tables: [
            {
              id: 'pgclusters',
              columns: clusterColumns,
              rows: ops.flatMap((o) => clusterRows(o.group.key, o.model.clusters)),
              empty: 'no PostgresCluster: kubectl apply one (kind PostgresCluster, pgdeck.io/v1alpha1)',
            },
            {
              id: 'pgmembers',
              title: 'Members',
              columns: memberColumns,
              rows: ops.flatMap((o) => memberRows(o.group.key, o.model.clusters)),
              empty: 'no member pods yet',
            },
          ],
        };
      },
    },
  ],
  commands: operatorCommands,
  merge: mergeOperator,
  summarize,
  leads,
  describe: (group) => group.model,
};
