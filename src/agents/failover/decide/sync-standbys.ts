import type { ClusterView, DynamicConfig, FailoverObserved, LocalView, PromoteOptions } from '../types.js';
import { step, type Step } from './step.js';

/** The sync_state values of pg_stat_replication under which a standby acknowledges commits. */
export const acknowledgingStates: readonly string[] = ['sync', 'quorum'];

/** In synchronous_standby_names, any standby: what strict mode waits for when no named one is left. */
export const anyStandby = '*';

/** How a standby is promoted under `dyn`: in strict mode with any standby as synchronous already. */
export function promoteOptions(dyn: DynamicConfig): PromoteOptions {
  const strict = dyn.synchronousMode && dyn.synchronousStrict === true;
  return { catchUpTimeoutMs: dyn.failoverTimeoutMs, ...(strict ? { syncStandbys: [anyStandby] } : {}) };
}

const sameNames = (a: readonly string[], b: readonly string[]): boolean =>
  [...a].sort().join() === [...b].sort().join();

/**
 * Synchronous mode on the serving primary, so that the `sync` record always names a superset of the
 * standbys that may hold acknowledged commits: add a standby to synchronous_standby_names first and
 * to the record once it has caught up; remove it from the record first and from
 * synchronous_standby_names after. One of the two changes per pass. In strict mode the names never
 * become empty: with no standby left they are `*`, so a commit waits until one acknowledges it (the
 * record stays empty until that standby is named and caught up, so none is promoted meanwhile).
 */
export function syncStandbys(
  s: NonNullable<LocalView['status']>,
  o: FailoverObserved,
  cluster: ClusterView,
  dyn: DynamicConfig,
  me: string,
): readonly Step[] {
  const record = cluster.sync?.primary === me ? cluster.sync.members : [];
  const ssn = o.local.syncStandbyNames;
  const wanted = dyn.synchronousMode
    ? s.replication
        .filter((r) => r.state === 'streaming' && cluster.members.some((m) => m.name === r.name && !m.noFailover))
        .map((r) => r.name)
        .sort()
    : [];
  const caughtUp = (name: string): boolean => {
    const row = s.replication.find((r) => r.name === name);
    const since = o.memory.ssnLsn;
    return (
      row !== undefined &&
      acknowledgingStates.includes(row.syncState) &&
      ssn.includes(name) &&
      since !== null &&
      row.flushLsn !== null &&
      row.flushLsn >= since
    );
  };
  const nextRecord = [
    ...record.filter((n) => wanted.includes(n)),
    ...wanted.filter((n) => !record.includes(n) && caughtUp(n)),
  ].sort();
  if (cluster.sync?.primary !== me || !sameNames(nextRecord, record))
    return [step('sync-standbys', { actions: [{ kind: 'write-sync', record: { primary: me, members: nextRecord } }] })];
  const named = [...new Set([...wanted, ...record])].sort();
  const strict = dyn.synchronousMode && dyn.synchronousStrict === true;
  const nextSsn = named.length === 0 && strict ? [anyStandby] : named;
  if (sameNames(nextSsn, ssn)) return [];
  return [step('sync-standbys', { actions: [{ kind: 'set-sync-standbys', names: nextSsn }] })];
}
