import type { HistoryEntry } from '../../../agents/failover/types.js';
import { formatAge, formatBytes, formatClock, formatLsn, formatSeconds } from '../../format.js';
import type { BannerLine, Column, EntityGroup, TableRow, Tone } from '../../module.js';
import type { MergedCluster, MergedMember } from './merge.js';

export const KIND = 'failover';

export interface ClusterEntity {
  readonly group: EntityGroup;
  readonly model: MergedCluster;
}

export interface MemberData {
  readonly type: 'member';
  readonly cluster: MergedCluster;
  readonly member: MergedMember;
}

export interface HistoryData {
  readonly type: 'history';
  readonly cluster: string;
  readonly entry: HistoryEntry;
}

/** The failover clusters among the entities, with their merged models. */
export function clustersOf(groups: readonly EntityGroup[]): ClusterEntity[] {
  return groups.flatMap((group) =>
    group.kind === KIND && group.model !== undefined ? [{ group, model: group.model as MergedCluster }] : [],
  );
}

const clusterColumn: Column = { title: 'CLUSTER', sortKey: 'C', max: 16 };

export function memberColumns(several: boolean): Column[] {
  return [
    ...(several ? [clusterColumn] : []),
    { title: 'MEMBER', sortKey: 'N', max: 16 },
    { title: 'ROLE', sortKey: 'R' },
    { title: 'STATE', sortKey: 'S' },
    { title: 'TL', sortKey: 'T', align: 'right' },
    { title: 'LSN', sortKey: 'P', align: 'right', wide: true },
    { title: 'LAG', sortKey: 'B', align: 'right' },
    { title: 'LAG S', sortKey: 'A', align: 'right' },
    { title: 'SYNC', sortKey: 'Y' },
    { title: 'LAST SEEN', sortKey: 'E' },
    { title: 'DAEMON', sortKey: 'D' },
  ];
}

function memberTone(c: MergedCluster, m: MergedMember): Tone {
  if (m.origin === 'stale') return 'stale';
  if (!m.healthy || m.state === 'crashed' || m.state === 'unreachable') return 'bad';
  if (m.state === 'fenced' || m.daemon === 'away' || (m.lagBytes ?? 0) > (c.config?.lagBudgetBytes ?? Infinity))
    return 'warn';
  return 'ok';
}

function syncState(m: MergedMember): string {
  if (m.role === 'primary') return '-';
  return m.syncState ?? (m.sync ? 'sync' : '-');
}

export function memberRows(clusters: readonly ClusterEntity[], now: number): TableRow[] {
  const several = clusters.length > 1;
  return clusters.flatMap(({ group, model }) =>
    model.members.map((m): TableRow => {
      const age = m.lastSeenAt === null ? null : now - m.lastSeenAt;
      const data: MemberData = { type: 'member', cluster: model, member: m };
      return {
        key: m.instance,
        entity: group.key,
        instance: m.instance,
        tone: memberTone(model, m),
        data,
        cells: [
          ...(several ? [model.cluster] : []),
          `${m.name}${m.leader ? '*' : ''}`,
          m.role,
          m.state,
          m.timeline === null ? '-' : String(m.timeline),
          m.receivedLsn === null ? '-' : formatLsn(m.receivedLsn),
          m.lagBytes === null ? '-' : formatBytes(m.lagBytes),
          m.lagSeconds === null || m.lagSeconds === undefined ? '-' : formatSeconds(m.lagSeconds),
          syncState(m),
          age === null ? 'never' : formatAge(age),
          m.daemon === 'none' ? '-' : m.daemon,
        ],
        sort: [
          ...(several ? [model.cluster] : []),
          m.name,
          m.role,
          m.state,
          m.timeline,
          m.receivedLsn,
          m.lagBytes,
          m.lagSeconds ?? null,
          syncState(m),
          age,
          m.daemon,
        ],
      };
    }),
  );
}

/** The cluster's line: leader with its live lease countdown, primary, mode, which daemons answer. */
export function clusterBanner(c: MergedCluster): BannerLine {
  const sync =
    c.config?.synchronousMode === true
      ? c.config.synchronousStrict === true
        ? ', synchronous strict'
        : ', synchronous'
      : '';
  const warning = c.writes?.warning ?? null;
  const single = warning === null ? '' : ` | ${warning}`;
  const mode = `${sync}${single}${c.config?.paused === true ? ' | automatic failover PAUSED' : ''}`;
  const live = c.daemons.filter((d) => d.live).length;
  const away = c.daemons.filter((d) => !d.live).map((d) => `${d.label} away: ${d.why ?? 'no answer'}`);
  const daemons = ` · daemons ${live}/${c.daemons.length} answer${away.length === 0 ? '' : ` (${away.join('; ')})`}`;
  const tone: Tone = !c.live ? 'stale' : c.problem !== null || single !== '' || away.length > 0 ? 'warn' : 'plain';
  const primary = `primary ${c.primary ?? 'none'}${mode}${daemons}`;
  if (!c.live) return { key: c.cluster, tone, text: `${c.cluster}: no daemon answers (last known ${primary})` };
  if (c.leader === null) {
    const why = c.leaderAway === null ? '' : ` (${c.leaderAway}'s daemon is away)`;
    return { key: c.cluster, tone, text: `${c.cluster}: no leader${why}, ${primary}` };
  }
  if (c.leader.leaseExpiresAt === null)
    return { key: c.cluster, tone, text: `${c.cluster}: leader ${c.leader.name}, ${primary}` };
  return {
    key: c.cluster,
    tone,
    text: `${c.cluster}: leader ${c.leader.name}, lease `,
    countdown: { until: c.leader.leaseExpiresAt, after: ` s, ${primary}` },
  };
}

export const legend: BannerLine = {
  key: 'legend',
  tone: 'dim',
  text: '* leader daemon · SYNC: sync_state on the primary · DAEMON: its own daemon live, away, or - (not attached)',
};

export function historyColumns(several: boolean): Column[] {
  return [
    ...(several ? [clusterColumn] : []),
    { title: 'WHEN', sortKey: 'W' },
    { title: 'KIND', sortKey: 'K' },
    { title: 'CHANGE', sortKey: 'H' },
    { title: 'FIRST WRITE', sortKey: 'F', align: 'right', wide: true },
    { title: 'LOST', sortKey: 'O', align: 'right' },
    { title: 'OUTCOME', sortKey: 'U' },
    { title: 'SIGNAL', sortKey: 'I', flex: true },
  ];
}

export function historyRows(clusters: readonly ClusterEntity[]): TableRow[] {
  const several = clusters.length > 1;
  return clusters
    .flatMap(({ group, model }) => model.history.map((entry) => ({ group, model, entry })))
    .sort((a, b) => b.entry.startedAt - a.entry.startedAt)
    .map(({ group, model, entry: e }): TableRow => {
      const change = `${e.oldPrimary ?? '?'} -> ${e.newPrimary ?? '?'}`;
      const data: HistoryData = { type: 'history', cluster: model.cluster, entry: e };
      return {
        key: `${model.cluster}/${e.id}`,
        entity: group.key,
        tone: e.outcome === 'failed' ? 'bad' : e.outcome === 'aborted' ? 'warn' : 'plain',
        data,
        cells: [
          ...(several ? [model.cluster] : []),
          formatClock(e.startedAt),
          e.kind,
          change,
          e.timeToFirstWriteMs === null ? '-' : `${e.timeToFirstWriteMs} ms`,
          e.bytesLost === null ? '?' : formatBytes(e.bytesLost),
          e.outcome,
          e.signal,
        ],
        sort: [
          ...(several ? [model.cluster] : []),
          e.startedAt,
          e.kind,
          change,
          e.timeToFirstWriteMs,
          e.bytesLost,
          e.outcome,
          e.signal,
        ],
      };
    });
}
