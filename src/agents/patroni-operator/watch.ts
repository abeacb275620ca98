import type { KubeInformer } from '../adapters/kube.js';
import type { WatchContext } from '../kernel/context.js';
import { SCOPE_LABEL } from './decide/labels.js';
import type { OperatorDeps } from './deps.js';
import { clusterKey } from './observe.js';
import { OWNED_KINDS, PGC_KIND, type ObjectView, type OperatorMemory } from './types.js';

function onChange(
  informer: KubeInformer<ObjectView>,
  ctx: WatchContext<OperatorMemory>,
  keyOf: (o: ObjectView) => string | undefined,
): () => void {
  return informer.subscribe((change) => {
    if (change.kind === 'synced' || change.kind === 'error') {
      ctx.wake();
      return;
    }
    const key = keyOf(change.object);
    if (key !== undefined) ctx.enqueue(key);
  });
}

/** The cluster that controls an owned object (its controller owner reference). */
function ownerKey(o: ObjectView): string | undefined {
  const owner = (o.metadata?.ownerReferences ?? []).find((r) => r.controller === true && r.kind === PGC_KIND);
  return owner?.name === undefined ? undefined : `${o.metadata?.namespace ?? ''}/${owner.name}`;
}

/**
 * A change of a PostgresCluster, of an object it owns or of one of its pods reconciles that cluster;
 * a PostgresCluster or a pod changed also wakes the agent's own pass, which lists the keys and publishes
 * the members (their roles and Patroni addresses) that the view and the actions use. The subscriptions end
 * with the agent's signal, through one abort listener for all of them.
 */
export function watchOperator(deps: OperatorDeps, ctx: WatchContext<OperatorMemory>): void {
  const offs = [
    onChange(deps.clusters, ctx, (o) => {
      ctx.wake();
      return clusterKey(o);
    }),
    ...OWNED_KINDS.map((kind) => onChange(deps.owned[kind], ctx, ownerKey)),
    onChange(deps.pods, ctx, (o) => {
      // the Clusters view and the actions read the members from the agent's own pass
      ctx.wake();
      const scope = o.metadata?.labels?.[SCOPE_LABEL];
      return scope === undefined ? undefined : `${o.metadata?.namespace ?? ''}/${scope}`;
    }),
  ];
  ctx.signal.addEventListener('abort', () => offs.forEach((off) => off()), { once: true });
}
