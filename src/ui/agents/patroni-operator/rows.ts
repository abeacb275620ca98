import type { ClusterRow, MemberView, OperatorState } from '../../../agents/patroni-operator/types.js';
import type { AgentSnapshot } from '../../../agents/kernel/snapshot.js';
import type { Column, EntityGroup, SourceView, TableRow, Tone } from '../../module.js';

export const KIND = 'patroni-operator';

/** The operator's view of its clusters: the leading replica's, else the first live one's. */
export interface OperatorModel {
  readonly clusters: readonly ClusterRow[];
  readonly leader: string | null;
  readonly live: boolean;
}

export type RowData =
  | { readonly type: 'cluster'; readonly cluster: ClusterRow }
  | { readonly type: 'member'; readonly cluster: ClusterRow; readonly member: MemberView };

export function isOperatorState(state: unknown): state is OperatorState {
  return typeof state === 'object' && state !== null && Array.isArray((state as { clusters?: unknown }).clusters);
}

export function mergeOperator(sources: readonly SourceView[]): OperatorModel {
  const withState = sources.filter((s) => isOperatorState(s.snapshot.state));
  const chosen =
    withState.find((s) => s.live && s.snapshot.leadership?.leading === true) ??
    withState.find((s) => s.live) ??
    withState[0];
  const state = chosen?.snapshot.state as OperatorState | undefined;
  const leader = sources.map((s) => s.snapshot.leadership?.holder).find((h) => h !== undefined && h !== null) ?? null;
  return { clusters: state?.clusters ?? [], leader, live: chosen?.live === true };
}

export const leads = (snapshot: AgentSnapshot): boolean => snapshot.leadership?.leading === true;

export function operatorsOf(groups: readonly EntityGroup[]): { group: EntityGroup; model: OperatorModel }[] {
  return groups.flatMap((group) =>
    group.kind === KIND && group.model !== undefined ? [{ group, model: group.model as OperatorModel }] : [],
  );
}

export const clusterColumns: readonly Column[] = [
  { title: 'CLUSTER', sortKey: 'C', max: 32 },
  { title: 'PHASE', sortKey: 'P' },
  { title: 'READY', sortKey: 'R', align: 'right' },
  { title: 'PRIMARY', sortKey: 'M', max: 24 },
  { title: 'CONDITIONS', flex: true },
];

export const memberColumns: readonly Column[] = [
  { title: 'CLUSTER', sortKey: 'C', max: 32 },
  { title: 'MEMBER', sortKey: 'N', max: 24 },
  { title: 'ROLE', sortKey: 'O' },
  { title: 'READY', sortKey: 'Y' },
];

function phaseTone(c: ClusterRow): Tone {
  switch (c.phase) {
    case 'Running':
      return 'ok';
    case 'Failed':
    case 'Degraded':
      return 'bad';
    case 'Unknown':
      return 'dim';
    case 'Pending':
    case 'Creating':
    case 'Updating':
    case 'Scaling':
    case 'Recovering':
    case 'Deleting':
      return 'warn';
  }
}

/** Which wrong condition is named first: the one a person acts on (an invalid spec), then what it causes. */
const CONDITION_ORDER: readonly ClusterRow['conditions'][number]['type'][] = [
  'ConfigurationValid',
  'Degraded',
  'Ready',
  'ReplicasReady',
  'Progressing',
];

/** `ConfigurationValid=False: spec.version 9 ...; Degraded=True: ...`: the conditions not as they should be, the cause first. */
export function conditionText(c: ClusterRow): string {
  const wrong = c.conditions
    .filter((x) => (x.type === 'Degraded' || x.type === 'Progressing' ? x.status === 'True' : x.status !== 'True'))
    .sort((a, b) => CONDITION_ORDER.indexOf(a.type) - CONDITION_ORDER.indexOf(b.type));
  if (wrong.length === 0) return c.conditions.length === 0 ? '-' : 'all conditions met';
  return wrong.map((x) => `${x.type}=${x.status}: ${x.message}`).join('; ');
}

const name = (c: ClusterRow): string => `${c.namespace}/${c.name}`;

export function clusterRows(entity: string, clusters: readonly ClusterRow[]): TableRow[] {
  return clusters.map((c) => ({
    key: `pgc:${name(c)}`,
    cells: [
      name(c),
      c.paused ? `${c.phase} (paused)` : c.phase,
      `${c.readyReplicas}/${c.replicas}`,
      c.primaryPod ?? '-',
      conditionText(c),
    ],
    tone: phaseTone(c),
    entity,
    sort: [name(c), c.phase, c.readyReplicas, c.primaryPod, null],
    data: { type: 'cluster', cluster: c } satisfies RowData,
  }));
}

export function memberRows(entity: string, clusters: readonly ClusterRow[]): TableRow[] {
  return clusters.flatMap((c) =>
    c.members.map((m) => ({
      key: `pgm:${name(c)}/${m.name}`,
      cells: [name(c), m.name, m.role === 'master' ? 'primary' : m.role, m.ready ? 'ready' : 'not ready'],
      tone: (m.ready ? 'ok' : 'bad') as Tone,
      entity,
      data: { type: 'member', cluster: c, member: m } satisfies RowData,
    })),
  );
}
