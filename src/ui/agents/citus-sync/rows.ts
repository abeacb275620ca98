import type { CitusSyncState, WorkerRow } from '../../../agents/citus-sync/types.js';
import type { KeyStatus } from '../../../agents/kernel/snapshot.js';
import type { Column, EntityGroup, SourceView, TableRow, Tone } from '../../module.js';

export const KIND = 'citus-sync';

/** One citus-sync entity: the state of the replica that leads it (else the first that answers). */
export interface CitusEntity {
  readonly state: CitusSyncState | undefined;
  readonly keys: readonly KeyStatus[];
  readonly leader: string | null;
  readonly live: boolean;
}

export interface WorkerData {
  readonly type: 'citus-worker';
  readonly worker: WorkerRow;
  readonly lastError: string | null;
}

export function isCitusSyncState(value: unknown): value is CitusSyncState {
  return typeof value === 'object' && value !== null && Array.isArray((value as { workers?: unknown }).workers);
}

export function mergeCitus(sources: readonly SourceView[]): CitusEntity {
  const withState = sources.filter((s) => isCitusSyncState(s.snapshot.state));
  const lead =
    withState.find((s) => s.snapshot.leadership?.leading === true) ?? withState.find((s) => s.live) ?? withState[0];
  const state = lead?.snapshot.state as CitusSyncState | undefined;
  return {
    state,
    keys: lead?.snapshot.reconciles?.keys ?? [],
    leader: lead?.snapshot.leadership?.holder ?? null,
    live: lead?.live ?? false,
  };
}

export const citusEntities = (groups: readonly EntityGroup[]): { group: EntityGroup; model: CitusEntity }[] =>
  groups.filter((g) => g.kind === KIND).map((g) => ({ group: g, model: g.model as CitusEntity }));

export const workerColumns: readonly Column[] = [
  { title: 'WORKER', sortKey: 'W', max: 40 },
  { title: 'POD', sortKey: 'P', max: 24 },
  { title: 'PHASE', max: 11 },
  { title: 'READY', max: 5 },
  { title: 'NODEID', align: 'right', max: 6 },
  { title: 'ACTIVE', max: 6 },
  { title: 'SHARDS', align: 'right', max: 6 },
  { title: 'DRAIN', max: 8 },
  { title: 'PENDING', max: 30, wide: true },
  { title: 'LAST ERROR', flex: true },
];

const flag = (b: boolean | null): string => (b === null ? '-' : b ? 'yes' : 'no');

function drainState(w: WorkerRow): string {
  if (w.pending.includes('drain-node')) return 'draining';
  if (w.shouldhaveshards === false) return 'drained';
  return '-';
}

function tone(w: WorkerRow, error: string | null): Tone {
  if (error !== null) return 'bad';
  if (w.pending.length > 0) return 'warn';
  return w.isactive === true ? 'ok' : 'dim';
}

export function workerRows(entities: readonly { group: EntityGroup; model: CitusEntity }[]): TableRow[] {
  return entities.flatMap(({ group, model }) => {
    const errors = new Map(model.keys.map((k) => [k.key, k.lastError]));
    return (model.state?.workers ?? []).map((w): TableRow => {
      const e = errors.get(w.key);
      const lastError = e === undefined ? null : `${e.kind}: ${e.message}`;
      const data: WorkerData = { type: 'citus-worker', worker: w, lastError };
      return {
        key: `${group.key}/${w.key}`,
        entity: group.key,
        cells: [
          w.address,
          w.pod ?? '-',
          w.deleting ? 'Terminating' : (w.phase ?? '-'),
          flag(w.pod === null ? null : w.ready),
          w.nodeid === null ? '-' : String(w.nodeid),
          flag(w.isactive),
          w.shards === null ? '-' : String(w.shards),
          drainState(w),
          w.pending.join(', ') || '-',
          lastError ?? '',
        ],
        sort: [null, null, null, null, w.nodeid, null, w.shards, null, null, null],
        tone: model.live ? tone(w, lastError) : 'stale',
        data,
      };
    });
  });
}
