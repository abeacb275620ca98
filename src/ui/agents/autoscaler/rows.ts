import type { AutoscalerState, DeadLetterInfo, TargetScale, TaskWorkers } from '../../../agents/autoscaler/types.js';
import { formatDuration } from '../../format.js';
import type { BannerLine, Column, EntityGroup, SourceView, TableRow } from '../../module.js';

export const KIND = 'autoscaler';

/** One stream and group, merged from the replicas that consume it. */
export interface ScalerModel {
  readonly entity: string;
  /** The freshest state among its live replicas (the last known one when none answers). */
  readonly state: AutoscalerState | undefined;
  readonly replicas: readonly string[];
  readonly live: boolean;
}

export interface ScalerEntity {
  readonly group: EntityGroup;
  readonly model: ScalerModel;
}

export type ScalerRowData =
  | { readonly type: 'task'; readonly task: TaskWorkers }
  | { readonly type: 'target'; readonly target: TargetScale }
  | { readonly type: 'dead-letter'; readonly letter: DeadLetterInfo };

const isState = (s: unknown): s is AutoscalerState =>
  typeof s === 'object' && s !== null && 'stream' in s && 'tasks' in s && 'lastDeadLetters' in s;

export function mergeScaler(sources: readonly SourceView[]): ScalerModel {
  const withState = sources.filter((s) => isState(s.snapshot.state));
  const live = withState.filter((s) => s.live);
  const pick = [...(live.length > 0 ? live : withState)].sort((a, b) => b.snapshot.updatedAt - a.snapshot.updatedAt)[0];
  return {
    entity: sources[0]?.snapshot.identity.entity ?? '',
    state: pick !== undefined && isState(pick.snapshot.state) ? pick.snapshot.state : undefined,
    replicas: sources.map((s) => s.snapshot.identity.label),
    live: live.length > 0,
  };
}

export function scalersOf(groups: readonly EntityGroup[]): ScalerEntity[] {
  return groups.flatMap((group) =>
    group.kind === KIND && group.model !== undefined ? [{ group, model: group.model as ScalerModel }] : [],
  );
}

/**
 * Two lines per stream, the figures first so that an 80-column terminal still shows them all: the
 * stream and its group, then the pods in flight, the dead letters and the replicas.
 */
export function banner(e: ScalerEntity): BannerLine[] {
  const s = e.model.state;
  if (s === undefined) return [{ key: `${e.group.key}:b`, text: `${e.model.entity}: no state yet`, tone: 'stale' }];
  const redis = s.redis.reachable ? '' : ` · redis unreachable: ${s.redis.error ?? '?'}`;
  const tone = !e.model.live ? 'stale' : !s.redis.reachable ? 'bad' : s.deadLetters > 0 ? 'warn' : 'ok';
  // what only Redis can tell is unknown while it is unreachable, not zero
  const fromRedis = (n: number | null): string => (s.redis.reachable && n !== null ? String(n) : '?');
  return [
    {
      key: `${e.group.key}:b`,
      text: `length ${fromRedis(s.length)}, lag ${fromRedis(s.lag)}, pending ${fromRedis(s.pending)} · stream ${s.stream} group ${s.group}${redis}`,
      tone,
    },
    {
      key: `${e.group.key}:b2`,
      text: `in flight ${s.inFlight}/${s.maxPodsInFlight} · dead letters ${fromRedis(s.deadLetters)} · replicas ${e.model.replicas.join(', ')}`,
      tone,
    },
  ];
}

export const taskColumns: readonly Column[] = [
  { title: 'TASK', sortKey: 'N', max: 42 },
  { title: 'PENDING', align: 'right' },
  { title: 'RUNNING', align: 'right' },
  { title: 'SUCCEEDED', align: 'right' },
  { title: 'FAILED', align: 'right' },
];

export function taskRows(entities: readonly ScalerEntity[]): TableRow[] {
  return entities.flatMap((e) =>
    (e.model.state?.tasks ?? []).map((t): TableRow => {
      const p = t.phases;
      return {
        key: `${e.group.key}:task:${t.taskId}`,
        entity: e.group.key,
        tone: p.Failed > 0 ? 'warn' : p.Pending + p.Running === 0 ? 'dim' : 'ok',
        cells: [t.taskId, String(p.Pending), String(p.Running), String(p.Succeeded), String(p.Failed)],
        sort: [t.taskId, p.Pending, p.Running, p.Succeeded, p.Failed],
        data: { type: 'task', task: t } satisfies ScalerRowData,
      };
    }),
  );
}

export const targetColumns: readonly Column[] = [
  { title: 'TARGET', max: 24 },
  { title: 'KIND' },
  { title: 'REPLICAS', align: 'right' },
  { title: 'CURRENT', align: 'right' },
  { title: 'MIN', align: 'right' },
  { title: 'MAX', align: 'right' },
];

export function targetRows(entities: readonly ScalerEntity[]): TableRow[] {
  return entities.flatMap((e) =>
    (e.model.state?.targets ?? []).map((t): TableRow => ({
      key: `${e.group.key}:target:${t.name}`,
      entity: e.group.key,
      tone: t.replicas === t.currentReplicas ? 'ok' : 'warn',
      cells: [t.name, t.kind, String(t.replicas), String(t.currentReplicas), String(t.min), String(t.max)],
      data: { type: 'target', target: t } satisfies ScalerRowData,
    })),
  );
}

export const consumerColumns: readonly Column[] = [
  { title: 'CONSUMER', max: 32 },
  { title: 'PENDING', align: 'right' },
  { title: 'IDLE', align: 'right' },
];

export function consumerRows(entities: readonly ScalerEntity[]): TableRow[] {
  return entities.flatMap((e) =>
    (e.model.state?.consumers ?? []).map((c): TableRow => ({
      key: `${e.group.key}:consumer:${c.name}`,
      entity: e.group.key,
      tone: c.pending > 0 && c.idleMs > 30_000 ? 'warn' : 'plain',
      cells: [c.name, String(c.pending), formatDuration(c.idleMs)],
    })),
  );
}

export const deadLetterColumns: readonly Column[] = [
  { title: 'DEAD LETTER', max: 22 },
  { title: 'REASON', flex: true },
  { title: 'FIELDS', wide: true, max: 60 },
];

export function deadLetterRows(entities: readonly ScalerEntity[]): TableRow[] {
  return entities.flatMap((e) =>
    (e.model.state?.lastDeadLetters ?? []).map((d): TableRow => ({
      key: `${e.group.key}:dlq:${d.id}`,
      entity: e.group.key,
      tone: 'bad',
      cells: [
        d.id,
        d.reason,
        Object.entries(d.fields)
          .map(([k, v]) => `${k}=${v}`)
          .join(' '),
      ],
      data: { type: 'dead-letter', letter: d } satisfies ScalerRowData,
    })),
  );
}
