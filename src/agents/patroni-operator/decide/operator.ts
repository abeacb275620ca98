import type { Decision } from '../../kernel/agent.js';
import type { OperatorObserved, OperatorState } from '../types.js';

/** The agent's own pass: it only publishes the clusters; every write is a keyed reconcile's. */
export function decideOperator(o: OperatorObserved): Decision<never, OperatorState> {
  const running = o.clusters.filter((c) => c.phase === 'Running').length;
  return {
    actions: [],
    summary: o.synced
      ? `${o.clusters.length} PostgresCluster(s), ${running} running`
      : 'waiting for the informers to list',
    publish: { synced: o.synced, clusters: o.clusters },
    ...(o.synced ? {} : { requeueAfterMs: 500 }),
  };
}
