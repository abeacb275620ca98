import {
  HASH_ANNOTATION,
  type DesiredObject,
  type ObjectView,
  type OwnedKind,
  type PostgresClusterSpec,
} from '../types.js';
import { intentHash } from './hash.js';
import type { ClusterRef } from './labels.js';
import { role, roleBinding, serviceAccount } from './resources-access.js';
import { patroniConfigMap } from './resources-config.js';
import { disruptionBudget, services } from './resources-services.js';
import { pooler, statefulSet, type Images } from './resources-statefulset.js';

function desired(kind: OwnedKind, object: ObjectView): DesiredObject {
  const hash = intentHash({ kind, object });
  const meta = object.metadata ?? {};
  return {
    kind,
    name: meta.name ?? '',
    hash,
    object: { ...object, metadata: { ...meta, annotations: { ...meta.annotations, [HASH_ANNOTATION]: hash } } },
  };
}

/**
 * Every object a PostgresCluster owns (but its credentials Secret, which is created once), in the order
 * they are applied: access first, then configuration, Services, the StatefulSet, the PDB, the pooler.
 * Each carries the hash of its intent, so a pass can tell what is up to date without writing.
 */
export function desiredObjects(ref: ClusterRef, spec: PostgresClusterSpec, images: Images): readonly DesiredObject[] {
  const [bouncer, bouncerService] = spec.pgbouncer.enabled ? pooler(ref, spec, images) : [];
  return [
    desired('serviceAccounts', serviceAccount(ref)),
    desired('roles', role(ref)),
    desired('roleBindings', roleBinding(ref)),
    desired('configMaps', patroniConfigMap(ref, spec)),
    // as soon as what its pods read at start exists (account, RBAC, configuration; the Secret is created
    // first): its claims then wait for the volume binder, the longest step of a cluster's creation,
    // while the Services and the PDB are applied
    desired('statefulSets', statefulSet(ref, spec, images)),
    ...services(ref).map((s) => desired('services', s)),
    desired('podDisruptionBudgets', disruptionBudget(ref, spec)),
    ...(bouncer === undefined || bouncerService === undefined
      ? []
      : [desired('deployments', bouncer), desired('services', bouncerService)]),
  ];
}

/** `statefulSets/pg1`: how observations and memory key an owned object. */
export const ownedKey = (kind: OwnedKind, name: string): string => `${kind}/${name}`;

/**
 * The memory entry of a cluster's last status patch: its "hash" is the resourceVersion the patch was
 * conditioned on, which the cache shows until the write comes back through the watch.
 */
export const statusEntry = (key: string): string => `${key}/status`;
