import type { ObjectView, PostgresClusterSpec } from '../types.js';
import { ownedMeta, ROLE_LABEL, SCOPE_LABEL, SPILO_LABELS, type ClusterRef } from './labels.js';
import { objectNames } from './resources-access.js';

/** The key of the ConfigMap holding the Patroni configuration Spilo merges (SPILO_CONFIGURATION). */
export const PATRONI_CONFIG_KEY = 'patroni.yaml';

/** The Patroni settings the operator owns: Kubernetes DCS in ConfigMaps mode, and the user's parameters. */
export function patroniSettings(ref: ClusterRef, spec: PostgresClusterSpec): Readonly<Record<string, unknown>> {
  return {
    kubernetes: {
      use_endpoints: false,
      namespace: ref.namespace,
      scope_label: SCOPE_LABEL,
      role_label: ROLE_LABEL,
      labels: SPILO_LABELS,
    },
    bootstrap: {
      dcs: {
        ttl: 30,
        loop_wait: 10,
        retry_timeout: 10,
        maximum_lag_on_failover: 33_554_432,
        postgresql: { use_pg_rewind: true, parameters: spec.postgresqlParams },
      },
    },
    postgresql: { parameters: spec.postgresqlParams },
  };
}

/** JSON is YAML: Spilo reads this key as YAML. */
export function patroniConfigMap(ref: ClusterRef, spec: PostgresClusterSpec): ObjectView {
  return {
    metadata: ownedMeta(ref, objectNames(ref.name).config, 'config'),
    data: { [PATRONI_CONFIG_KEY]: JSON.stringify(patroniSettings(ref, spec), null, 2) },
  };
}
