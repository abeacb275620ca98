import type { EntityGroup, EntitySummary, TableRow, UiModule } from '../../module.js';
import { citusCommands } from './commands.js';
import {
  KIND,
  citusEntities,
  mergeCitus,
  workerColumns,
  workerRows,
  type CitusEntity,
  type WorkerData,
} from './rows.js';

function summarize(group: EntityGroup): EntitySummary {
  const c = group.model as CitusEntity;
  const workers = c.state?.workers ?? [];
  const active = workers.filter((w) => w.isactive === true).length;
  const pending = workers.filter((w) => w.pending.length > 0).length;
  const base = `${active}/${workers.length} workers active, ${pending} to converge, leader ${c.leader ?? 'none'}`;
  if (!c.live) return { health: 'stale', tone: 'stale', summary: `last known: ${base}` };
  if (c.state?.coordinator.reachable === false)
    return { health: 'degraded', tone: 'bad', summary: `coordinator: ${c.state.coordinator.error ?? 'unreachable'}` };
  return pending > 0
    ? { health: 'converging', tone: 'warn', summary: base }
    : { health: 'ok', tone: 'ok', summary: base };
}

function detail(row: TableRow): readonly string[] | undefined {
  const data = row.data as WorkerData | undefined;
  if (data?.type !== 'citus-worker') return undefined;
  const w = data.worker;
  return [
    `worker ${w.address} (pod ${w.pod ?? 'none'})`,
    `nodeid ${w.nodeid ?? '-'}, active ${String(w.isactive)}, shouldhaveshards ${String(w.shouldhaveshards)}, shards ${w.shards ?? '-'}`,
    `next: ${w.summary}`,
    ...(data.lastError === null ? [] : [`last error: ${data.lastError}`]),
  ];
}

/** The citus-sync agent in the console: pg_dist_node joined with the worker pods, and d/a/x with previews. */
export const citusSyncModule: UiModule = {
  name: 'citus-sync',
  kind: KIND,
  views: [
    {
      id: 'citus',
      title: 'Citus workers',
      aliases: ['citus', 'workers', 'pg_dist_node'],
      model: (ctx) => {
        const entities = citusEntities(ctx.groups);
        return {
          banner: entities.map(({ group, model }) => ({
            key: group.key,
            text: `${group.entity}: coordinator ${model.state?.coordinator.at ?? 'unreachable'}, policy ${model.state?.policy ?? '-'}, leader ${model.leader ?? 'none'}`,
            tone: model.state?.coordinator.reachable === true ? 'plain' : 'bad',
          })),
          tables: [
            {
              id: 'citus-workers',
              columns: workerColumns,
              rows: workerRows(entities),
              empty: 'no citus-sync agent: run `pgdeck --agent citus-sync` and attach to it',
            },
          ],
        };
      },
      detail,
    },
  ],
  commands: citusCommands,
  merge: mergeCitus,
  summarize,
  leads: (snapshot) => snapshot.leadership?.leading === true,
  describe: (group) => group.model,
};
