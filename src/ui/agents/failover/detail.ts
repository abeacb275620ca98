import type { HistoryEntry } from '../../../agents/failover/types.js';
import { formatAge, formatBytes, formatClock, formatLsn, formatSeconds, maskSecrets } from '../../format.js';
import type { ViewContext } from '../../module.js';
import type { MemberData } from './rows.js';

const lsnText = (lsn: number | null): string => (lsn === null ? '-' : formatLsn(lsn));

/** Enter on a member: where it is (secrets masked), its positions, slots, daemon and recent events. */
export function memberDetail({ cluster, member: m }: MemberData, ctx: ViewContext): string[] {
  const origin =
    m.origin === 'own'
      ? 'as its own daemon reports it'
      : m.origin === 'cluster'
        ? "as the cluster's leader (or freshest daemon) sees it"
        : 'from a stale copy only: unreachable';
  const daemon =
    m.daemon === 'live'
      ? 'answers'
      : m.daemon === 'away'
        ? `away: ${m.daemonWhy ?? 'no answer'}`
        : 'not attached (this console has no source for it)';
  const slots = m.slots ?? [];
  const events = ctx.events
    .filter((e) => e.instance === m.instance && e.event.severity !== 'debug')
    .slice(-8)
    .reverse();
  return [
    `${m.instance}: ${m.role}, ${m.state}${m.leader ? ', leader' : ''} (${origin})`,
    `conninfo: ${maskSecrets(m.pgUrl) || '-'}`,
    `daemon API: ${maskSecrets(m.apiUrl) || '-'}; daemon ${daemon}`,
    `timeline ${m.timeline ?? '-'} · received ${lsnText(m.receivedLsn)} · replayed ${lsnText(m.replayedLsn)} · written ${lsnText(m.writtenLsn)}`,
    `lag ${m.lagBytes === null ? '-' : formatBytes(m.lagBytes)} / ${m.lagSeconds === null || m.lagSeconds === undefined ? '-' : formatSeconds(m.lagSeconds)} · sync state ${m.syncState ?? (m.sync ? 'sync' : '-')} · no-failover ${m.noFailover ? 'yes' : 'no'}`,
    `last seen ${m.lastSeenAt === null ? 'never' : formatAge(ctx.now - m.lastSeenAt)} · cluster ${cluster.cluster}, primary ${cluster.primary ?? 'none'}`,
    `replication slots: ${slots.length === 0 ? 'none' : ''}`,
    ...slots.map(
      (s) => `  ${s.name} (${s.type}, ${s.active ? 'active' : 'inactive'}, restart ${lsnText(s.restartLsn)})`,
    ),
    `recent events: ${events.length === 0 ? 'none seen from its daemon' : ''}`,
    ...events.map((e) => `  ${formatClock(e.event.time)} ${e.event.kind} ${e.event.message}`),
  ];
}

/** The detail of one flight-recorder entry, a line each. */
export function historyDetail(e: HistoryEntry): string[] {
  return [
    `${e.kind} ${e.id}: ${e.outcome}${e.message === '' ? '' : ` (${e.message})`}`,
    `signal: ${e.signal}`,
    `reason: ${e.reason}`,
    `primary: ${e.oldPrimary ?? '?'} -> ${e.newPrimary ?? '?'} on timeline ${e.timeline ?? '?'}`,
    `catch-up wait ${e.catchUpWaitMs} ms; time to first write ${e.timeToFirstWriteMs === null ? 'unknown' : `${e.timeToFirstWriteMs} ms`}; lost ${e.bytesLost === null ? 'unknown' : formatBytes(e.bytesLost)}`,
    'candidates:',
    ...e.candidates.map(
      (c) =>
        `  ${c.eligible ? '+' : '-'} ${c.name}  lsn ${lsnText(c.lsn)}  lag ${c.lagBytes === null ? '-' : formatBytes(c.lagBytes)}  ${c.reason}`,
    ),
  ];
}
