import type { Choice } from '../failover-policy.js';
import type { ClusterView, HistoryEntry, PrimaryRecord } from '../types.js';
import { step, type Step } from './step.js';

/** The key of a flight-recorder entry under `history/`: one entry per generation it creates. */
export function historyId(generation: number): string {
  return `g${generation}`;
}

export interface EntryInput {
  readonly kind: HistoryEntry['kind'];
  /** The generation of the primary record the promotion will create. */
  readonly generation: number;
  readonly oldPrimary: string;
  readonly winner: string;
  readonly signal: string;
  readonly choice: Choice;
  readonly now: number;
}

/** A new, in-progress flight-recorder entry: what was detected, the candidates and why the winner. */
export function historyEntry(input: EntryInput): HistoryEntry {
  const { kind, generation, oldPrimary, winner, choice, now } = input;
  return {
    id: historyId(generation),
    generation,
    kind,
    startedAt: now,
    detectedAt: now,
    signal: input.signal,
    oldPrimary,
    newPrimary: winner,
    candidates: choice.candidates,
    reason: choice.reason,
    catchUpWaitMs: 0,
    promotedAt: null,
    firstWriteAt: null,
    timeToFirstWriteMs: null,
    bytesLost: choice.bytesLost,
    timeline: null,
    outcome: 'in-progress',
    message: `${kind} from ${oldPrimary} to ${winner}`,
  };
}

/**
 * On the leader: completes the in-progress entry of the record's generation once its primary reports
 * the first write, or marks an older in-progress entry aborted (a later generation superseded it).
 */
export function completeHistory(cluster: ClusterView, record: PrimaryRecord): readonly Step[] {
  const open = cluster.history.find(
    (h) => h.outcome === 'in-progress' && h.generation === record.generation && h.newPrimary === record.name,
  );
  if (open === undefined) {
    const stale = cluster.history.find(
      (h) => h.outcome === 'in-progress' && h.generation < record.generation && record.demoting === null,
    );
    if (stale === undefined) return [];
    const entry: HistoryEntry = {
      ...stale,
      outcome: 'aborted',
      message: `${stale.message}: superseded by generation ${record.generation} (${record.name})`,
    };
    return [step('leadership', { actions: [{ kind: 'record-history', entry }] })];
  }
  const m = cluster.members.find((r) => r.name === record.name);
  const promoted = m?.promoted;
  if (
    promoted === null ||
    promoted === undefined ||
    promoted.generation !== record.generation ||
    promoted.firstWriteAt === null
  )
    return [];
  const timeToFirstWriteMs = promoted.firstWriteAt - open.detectedAt;
  const entry: HistoryEntry = {
    ...open,
    promotedAt: promoted.promotedAt,
    firstWriteAt: promoted.firstWriteAt,
    timeToFirstWriteMs,
    catchUpWaitMs: promoted.catchUpWaitMs,
    timeline: m?.timeline ?? null,
    outcome: 'completed',
    message: `${open.message}: first write ${timeToFirstWriteMs} ms after detection`,
  };
  return [step('leadership', { actions: [{ kind: 'record-history', entry }] })];
}
