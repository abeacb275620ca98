import { MANAGED_BY, PGC_GROUP, PGC_KIND, PGC_VERSION, type ObjectView } from '../types.js';

/** The PostgresCluster an object belongs to. */
export interface ClusterRef {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

/** Patroni's scope label and the label Spilo puts on every pod and DCS object of a cluster. */
export const SCOPE_LABEL = 'cluster-name';
export const ROLE_LABEL = 'spilo-role';
export const SPILO_LABELS: Readonly<Record<string, string>> = { application: 'spilo' };

/** The pods of a cluster: what Services, the PDB and the StatefulSet select. */
export function podSelector(ref: ClusterRef): Readonly<Record<string, string>> {
  return { ...SPILO_LABELS, [SCOPE_LABEL]: ref.name };
}

export function selectorString(labels: Readonly<Record<string, string>>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/** The standard `app.kubernetes.io/*` labels, plus the pod selector so a label query finds everything. */
export function standardLabels(ref: ClusterRef, component: string): Readonly<Record<string, string>> {
  return {
    'app.kubernetes.io/name': 'postgres',
    'app.kubernetes.io/instance': ref.name,
    'app.kubernetes.io/component': component,
    'app.kubernetes.io/part-of': 'pgdeck',
    'app.kubernetes.io/managed-by': MANAGED_BY,
    ...podSelector(ref),
  };
}

/** The metadata of an owned object: its name, labels and the controller owner reference. */
export function ownedMeta(ref: ClusterRef, name: string, component: string): NonNullable<ObjectView['metadata']> {
  return {
    name,
    namespace: ref.namespace,
    labels: standardLabels(ref, component),
    ownerReferences: [
      {
        apiVersion: `${PGC_GROUP}/${PGC_VERSION}`,
        kind: PGC_KIND,
        name: ref.name,
        uid: ref.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ],
  };
}
