import type { ObjectView, PostgresClusterSpec } from '../types.js';
import { ownedMeta, podSelector, ROLE_LABEL, type ClusterRef } from './labels.js';
import { objectNames } from './resources-access.js';

const postgresPort = { name: 'postgresql', port: 5432, targetPort: 5432, protocol: 'TCP' };

function service(ref: ClusterRef, name: string, component: string, spec: Record<string, unknown>): ObjectView {
  return { metadata: ownedMeta(ref, name, component), spec: { type: 'ClusterIP', ports: [postgresPort], ...spec } };
}

/** The primary (Patroni's leader labels its pod spilo-role=master), the replicas, and the StatefulSet's headless Service. */
export function services(ref: ClusterRef): readonly ObjectView[] {
  const n = objectNames(ref.name);
  return [
    service(ref, n.primary, 'primary', { selector: { ...podSelector(ref), [ROLE_LABEL]: 'master' } }),
    service(ref, n.replicas, 'replica', { selector: { ...podSelector(ref), [ROLE_LABEL]: 'replica' } }),
    service(ref, n.headless, 'headless', {
      clusterIP: 'None',
      publishNotReadyAddresses: true,
      selector: podSelector(ref),
      ports: [postgresPort, { name: 'patroni', port: 8008, targetPort: 8008, protocol: 'TCP' }],
    }),
  ];
}

/** At most one member down by choice at a time (none for a single member: the PDB would block every drain). */
export function disruptionBudget(ref: ClusterRef, spec: PostgresClusterSpec): ObjectView {
  return {
    metadata: ownedMeta(ref, objectNames(ref.name).budget, 'budget'),
    spec: {
      ...(spec.replicas > 1 ? { maxUnavailable: 1 } : { minAvailable: 0 }),
      selector: { matchLabels: podSelector(ref) },
    },
  };
}
