import type { DecisionEvent } from '../kernel/journal.js';

/** The API group, version and kind of the custom resource. */
export const PGC_GROUP = 'pgdeck.io';
export const PGC_VERSION = 'v1alpha1';
export const PGC_KIND = 'PostgresCluster';
export const PGC_PLURAL = 'postgresclusters';
/** The finalizer the operator puts on every PostgresCluster it manages. */
export const PGC_FINALIZER = 'pgdeck.io/patroni-operator';
/** The annotation holding the hash of the desired object the operator last applied. */
export const HASH_ANNOTATION = 'pgdeck.io/desired-hash';
/** The label every owned object (and every pod) carries, so informers list only the operator's objects. */
export const MANAGED_BY = 'pgdeck-patroni-operator';

export type PoolMode = 'session' | 'transaction' | 'statement';
export type ReclaimPolicy = 'Retain' | 'Delete';

/** A PostgresCluster's spec once defaults are applied (the CRD sets them; validate fills gaps). */
export interface PostgresClusterSpec {
  readonly version: number;
  readonly replicas: number;
  readonly storage: { readonly size: string; readonly storageClass?: string; readonly reclaimPolicy: ReclaimPolicy };
  readonly resources: {
    readonly requests: Readonly<Record<string, string>>;
    readonly limits: Readonly<Record<string, string>>;
  };
  readonly postgresqlParams: Readonly<Record<string, string>>;
  readonly backup?: {
    readonly destination: string;
    readonly schedule: string;
    readonly retention: number;
    readonly credentialsSecret: string;
  };
  readonly pgbouncer: { readonly enabled: boolean; readonly replicas: number; readonly poolMode: PoolMode };
  readonly tls: { readonly secretName?: string };
  readonly metrics: { readonly enabled: boolean };
  readonly paused: boolean;
}

export type Phase =
  'Pending' | 'Creating' | 'Running' | 'Updating' | 'Scaling' | 'Degraded' | 'Recovering' | 'Failed' | 'Deleting';

export const PHASES: readonly Phase[] = [
  'Pending',
  'Creating',
  'Running',
  'Updating',
  'Scaling',
  'Degraded',
  'Recovering',
  'Failed',
  'Deleting',
];

export type ConditionType = 'Ready' | 'Progressing' | 'Degraded' | 'ConfigurationValid' | 'ReplicasReady';

export interface Condition {
  readonly type: ConditionType;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
  readonly lastTransitionTime: string;
  readonly observedGeneration?: number;
}

export interface RetryStatus {
  readonly attempts: number;
  readonly lastError: string;
  readonly nextRetryAt: string;
}

export interface PostgresClusterStatus {
  readonly phase?: Phase;
  readonly replicas?: number;
  readonly readyReplicas?: number;
  readonly primaryPod?: string | null;
  readonly replicaPods?: readonly string[];
  /** The pods' label selector, for the scale subresource. */
  readonly selector?: string;
  readonly conditions?: readonly Condition[];
  readonly observedGeneration?: number;
  readonly retry?: RetryStatus | null;
}

/** A Kubernetes object as the informers hold it (the adapter's KubeObject, restated for pure code). */
export interface ObjectView {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly uid?: string;
    readonly resourceVersion?: string;
    readonly generation?: number;
    readonly deletionTimestamp?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
    readonly finalizers?: readonly string[];
    readonly ownerReferences?: readonly {
      readonly apiVersion: string;
      readonly kind: string;
      readonly name: string;
      readonly uid: string;
      readonly controller?: boolean;
      readonly blockOwnerDeletion?: boolean;
    }[];
  };
  readonly [field: string]: unknown;
}

/** Which built-in kind an owned object is: the key of the adapter's resource table. */
export type OwnedKind =
  | 'serviceAccounts'
  | 'roles'
  | 'roleBindings'
  | 'configMaps'
  | 'secrets'
  | 'services'
  | 'statefulSets'
  | 'podDisruptionBudgets'
  | 'deployments';

export const OWNED_KINDS: readonly OwnedKind[] = [
  'serviceAccounts',
  'roles',
  'roleBindings',
  'configMaps',
  'secrets',
  'services',
  'statefulSets',
  'podDisruptionBudgets',
  'deployments',
];

/** One pod of a cluster, as Patroni labels it and kwok or the kubelet reports it. */
export interface MemberView {
  readonly name: string;
  /** Patroni's role label (`spilo-role`): master, replica, or absent while it starts. */
  readonly role: 'master' | 'replica' | 'unknown';
  readonly ready: boolean;
  readonly ip?: string;
  /** Where its Patroni REST API answers (`host:port`): the pod IP on 8008, or the `pgdeck.io/patroni-api` annotation when allowed. */
  readonly api?: string;
}

/** What the operator remembers between reconciles: the hashes it applied, so a lagging cache is not written twice. */
export interface OperatorMemory {
  readonly applied: Readonly<Record<string, { readonly hash: string; readonly at: number }>>;
}

/** One key's observation: the PostgresCluster and everything it owns, from the informers' caches. */
export interface ClusterObserved {
  readonly key: string;
  /** False until every informer has listed: the operator then does nothing. */
  readonly synced: boolean;
  readonly cluster: ObjectView | null;
  /** Owned objects by `kind/name`. */
  readonly owned: Readonly<Record<string, ObjectView>>;
  readonly members: readonly MemberView[];
  /** The storage size the StatefulSet's claim template asks for now (a shrink is refused). */
  readonly currentStorage?: string;
  readonly memory: OperatorMemory;
}

/** One object to apply, with the hash of its intent. */
export interface DesiredObject {
  readonly kind: OwnedKind;
  readonly name: string;
  readonly hash: string;
  readonly object: ObjectView;
}

export type ClusterAction =
  | { readonly kind: 'add-finalizer' }
  | { readonly kind: 'apply'; readonly desired: DesiredObject }
  | {
      readonly kind: 'create-secret';
      readonly name: string;
      readonly object: ObjectView;
      readonly keys: readonly string[];
    }
  | { readonly kind: 'patch-status'; readonly resourceVersion: string; readonly status: PostgresClusterStatus }
  | {
      readonly kind: 'record-event';
      readonly type: 'Normal' | 'Warning';
      readonly reason: string;
      readonly note: string;
      readonly topic: string;
      readonly state: string;
    }
  | {
      readonly kind: 'clean-up';
      readonly selector: string;
      readonly deleteClaims: boolean;
      readonly claimSelector: string;
    }
  | { readonly kind: 'delete'; readonly ownedKind: OwnedKind; readonly name: string }
  | { readonly kind: 'remove-finalizer' };

export interface OperatorConfig {
  /** The kubeconfig file (empty: $KUBECONFIG, in-cluster, ~/.kube/config). */
  readonly kubeconfig: string;
  readonly kubeContext: string;
  /** The namespace watched; empty: every namespace. */
  readonly namespace: string;
  /** This replica's name (the pod's), in the snapshot and the Lease. */
  readonly instance: string;
  readonly spiloImage: string;
  readonly pgbouncerImage: string;
  readonly exporterImage: string;
  /** After this many failed reconciles in a row, the phase is Failed (retries go on, slower). */
  readonly failedAfterAttempts: number;
  /**
   * Whether a pod's `pgdeck.io/patroni-api` annotation may name where its Patroni REST API answers. Off by
   * default: whoever can annotate pods could otherwise point the operator's REST calls anywhere.
   */
  readonly patroniApiAnnotation: boolean;
}

/** The part of the config `decide` reads. */
export type DecideConfig = Pick<
  OperatorConfig,
  'spiloImage' | 'pgbouncerImage' | 'exporterImage' | 'failedAfterAttempts'
>;

/** A PostgresCluster as the operator publishes it (the console's Clusters view). */
export interface ClusterRow {
  readonly namespace: string;
  readonly name: string;
  readonly phase: Phase | 'Unknown';
  readonly replicas: number;
  readonly readyReplicas: number;
  readonly primaryPod: string | null;
  readonly paused: boolean;
  readonly conditions: readonly Pick<Condition, 'type' | 'status' | 'reason' | 'message'>[];
  readonly members: readonly MemberView[];
}

/** The agent's own pass: every PostgresCluster the informers see. */
export interface OperatorObserved {
  readonly synced: boolean;
  readonly clusters: readonly ClusterRow[];
}

export interface OperatorState {
  readonly synced: boolean;
  readonly clusters: readonly ClusterRow[];
}

export type OperatorAction = never;

export type { DecisionEvent };
