import type { EntityGroup, EntitySummary, UiModule } from '../../module.js';
import { autoscalerCommands } from './commands.js';
import {
  KIND,
  banner,
  consumerColumns,
  consumerRows,
  deadLetterColumns,
  deadLetterRows,
  mergeScaler,
  scalersOf,
  targetColumns,
  targetRows,
  taskColumns,
  taskRows,
  type ScalerModel,
} from './rows.js';

function summarize(group: EntityGroup): EntitySummary {
  const m = group.model as ScalerModel;
  const s = m.state;
  if (s === undefined) return { health: 'starting', tone: 'stale', summary: 'no state yet' };
  const summary = `lag ${s.lag ?? '?'}, pending ${s.pending}, ${s.inFlight}/${s.maxPodsInFlight} pods in flight, ${s.tasks.length} task(s), ${s.deadLetters} dead letter(s)`;
  if (!m.live) return { health: 'stale', tone: 'stale', summary: `last known: ${summary}` };
  if (!s.redis.reachable) return { health: 'degraded', tone: 'bad', summary: `redis unreachable · ${summary}` };
  return { health: s.deadLetters > 0 ? 'degraded' : 'ok', tone: s.deadLetters > 0 ? 'warn' : 'ok', summary };
}

/** The autoscaler in the console: stream and group figures, workers per task, targets, consumers, dead letters. */
export const autoscalerModule: UiModule = {
  name: 'autoscaler',
  kind: KIND,
  views: [
    {
      id: 'autoscaler',
      title: 'Autoscaler',
      aliases: ['autoscaler', 'as', 'scale', 'workers'],
      model: (ctx) => {
        const all = scalersOf(ctx.groups);
        return {
          banner: all.flatMap(banner),
          tables: [
            {
              id: 'tasks',
              title: 'WORKERS BY TASK',
              columns: taskColumns,
              rows: taskRows(all),
              empty: 'no task pods',
              maxRows: 12,
            },
            {
              id: 'targets',
              title: 'TARGETS',
              columns: targetColumns,
              rows: targetRows(all),
              empty: 'no replica targets configured',
              maxRows: 6,
            },
            {
              id: 'consumers',
              title: 'CONSUMERS',
              columns: consumerColumns,
              rows: consumerRows(all),
              empty: 'no consumers',
              maxRows: 6,
            },
            {
              id: 'dead-letters',
              title: 'DEAD LETTERS',
              columns: deadLetterColumns,
              rows: deadLetterRows(all),
              empty: 'no dead letters',
              maxRows: 6,
            },
          ],
        };
      },
    },
  ],
  commands: autoscalerCommands,
  merge: mergeScaler,
  summarize,
  describe: (group) => group.model,
};
