import type { ClusterView, FailoverAction, FailoverObserved } from '../types.js';
import { step, warn, type Step } from './step.js';

/**
 * After an etcd wipe (etcd answers with another cluster id than the one this daemon's seed came
 * from): every daemon writes back what it remembers and etcd lacks, the dynamic config and the
 * flight recorder; the primary the remembered record names, while its server still serves
 * writes, also writes back that record (same generation) and its `sync` record, so that the
 * cluster is not bootstrapped again from the initial config. Nothing else happens in that pass.
 */
export function reseedAfterWipe(o: FailoverObserved, cluster: ClusterView, me: string): Step | null {
  const seed = o.memory.seed;
  const id = o.etcd.clusterId;
  if (seed === null || id === null || seed.clusterId === id) return null;
  const s = o.local.status;
  const serving = s !== null && !s.inRecovery && !s.readOnly;
  const record = seed.primary;
  const primary =
    record !== null && record.name === me && serving && cluster.primary === null
      ? { record: { ...record, demoting: null }, sync: seed.sync?.primary === me ? seed.sync : null }
      : null;
  const missing = seed.history.filter((h) => !cluster.history.some((c) => c.id === h.id));
  const parts = [
    ...(seed.config !== null && cluster.config === null ? ['the dynamic config'] : []),
    ...(missing.length > 0 ? [`${missing.length} history entr${missing.length === 1 ? 'y' : 'ies'}`] : []),
    ...(primary !== null ? [`the primary record (generation ${primary.record.generation})`] : []),
  ];
  const action: FailoverAction = { kind: 'reseed', seed, clusterId: id, primary };
  if (parts.length === 0)
    return step('reseed', {
      actions: [action],
      summary: `etcd is a new cluster (id ${id}): nothing this daemon holds is missing there`,
    });
  const summary = `etcd is a new cluster (id ${id}, was ${seed.clusterId}): writing back ${parts.join(', ')}`;
  return step('reseed', { actions: [action], summary, events: [warn('etcd-reseeded', summary)] });
}
