import type { DistNode } from '../adapters/citus.js';

export type { DistNode };

export type RemovalPolicy = 'disable' | 'remove' | 'drain';
export type Addressing = 'dns' | 'ip' | 'annotation';

export interface CitusSyncConfig {
  /** Coordinator candidates, `host` or `host:port`, comma-separated: the first read-write one is used. */
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password?: string;
  readonly passwordFile?: string;
  readonly database: string;
  /** The coordinator's name as the workers reach it (`citus_set_coordinator_host`); default: the first host. */
  readonly coordinatorHost?: string;
  readonly namespace: string;
  readonly labelSelector: string;
  readonly scanIntervalSeconds: number;
  readonly addressing: Addressing;
  /** The headless service of the worker pods (dns addressing, when a pod has no spec.subdomain). */
  readonly service?: string;
  readonly clusterDomain: string;
  readonly addressAnnotation: string;
  /** PostgreSQL port of the workers (when the address does not name one). */
  readonly workerPort: number;
  readonly policy: RemovalPolicy;
  readonly finalizer: string;
  /** The annotation on a pod that records the nodeid it is registered as (so a new address is a rename). */
  readonly nodeAnnotation: string;
  readonly kubeconfig?: string;
  readonly kubeContext?: string;
  /** This replica's name (its Lease identity). */
  readonly replica: string;
  readonly statementTimeoutSeconds: number;
}

/** A worker's address in pg_dist_node: an exact string and a port, as Citus matches it. */
export interface WorkerAddress {
  readonly host: string;
  readonly port: number;
}

/** What the agent reads of one worker pod. */
export interface PodView {
  readonly name: string;
  readonly uid: string;
  readonly phase: string;
  readonly ready: boolean;
  /** It has a deletionTimestamp (kept alive only by finalizers). */
  readonly deleting: boolean;
  /** It carries this agent's finalizer. */
  readonly held: boolean;
  /** Its address, or why it has none yet (no IP, no annotation, no service). */
  readonly address: WorkerAddress | null;
  readonly addressProblem: string | null;
  /** The nodeid this agent recorded on the pod once it was registered; null before. */
  readonly recordedNode: number | null;
}

/** One key's observation: the pods that claim the address and its pg_dist_node row. */
export interface WorkerObserved {
  readonly key: string;
  readonly address: WorkerAddress;
  readonly pods: readonly PodView[];
  readonly node: DistNode | null;
  /** The pod cache reflects a completed list and a live watch: only then is a missing pod really gone. */
  readonly podsSynced: boolean;
  readonly policy: RemovalPolicy;
  /** The row a live pod of this address was registered as under another address (the pod moved here). */
  readonly former: DistNode | null;
  /** A live pod elsewhere recorded as this address's node (the node is moving there). */
  readonly movedTo: { readonly pod: string; readonly key: string } | null;
}

export type WorkerAction =
  /** Adds the node and records its nodeid on `pod` (keeping the finalizer as `held` says). */
  | { readonly kind: 'add-node'; readonly address: WorkerAddress; readonly pod: string; readonly held: boolean }
  | { readonly kind: 'activate-node'; readonly address: WorkerAddress }
  | { readonly kind: 'disable-node'; readonly address: WorkerAddress }
  | { readonly kind: 'drain-node'; readonly address: WorkerAddress; readonly shards: number }
  | { readonly kind: 'remove-node'; readonly address: WorkerAddress }
  | {
      readonly kind: 'update-node';
      readonly nodeid: number;
      readonly from: WorkerAddress;
      readonly address: WorkerAddress;
    }
  | { readonly kind: 'record-node'; readonly pod: string; readonly nodeid: number; readonly held: boolean }
  | { readonly kind: 'add-finalizer'; readonly pod: string; readonly nodeid: number | null }
  | { readonly kind: 'release-finalizer'; readonly pod: string };

/** The single pass: every pod and every row, for the published state and the list of keys. */
export interface CitusSyncObserved {
  readonly pods: readonly PodView[];
  readonly podsSynced: boolean;
  readonly podsError: string | null;
  /** null when the coordinator could not be read. */
  readonly nodes: readonly DistNode[] | null;
  readonly coordinatorError: { readonly kind: string; readonly message: string } | null;
  readonly coordinatorAt: string | null;
  readonly config: Pick<CitusSyncConfig, 'policy' | 'addressing' | 'namespace' | 'labelSelector'>;
}

export type CitusSyncAction = { readonly kind: 'set-coordinator-host'; readonly host: string; readonly port: number };

/** One worker as the console shows it: its pod joined with its pg_dist_node row. */
export interface WorkerRow {
  readonly key: string;
  readonly pod: string | null;
  readonly phase: string | null;
  readonly ready: boolean;
  readonly deleting: boolean;
  readonly address: string;
  readonly nodeid: number | null;
  readonly isactive: boolean | null;
  readonly shouldhaveshards: boolean | null;
  readonly shards: number | null;
  /** What the agent will do for it next (the kinds of its pending actions), empty when in step. */
  readonly pending: readonly string[];
  readonly summary: string;
}

export interface CitusSyncState {
  readonly coordinator: {
    readonly reachable: boolean;
    readonly at: string | null;
    readonly error: string | null;
  };
  readonly pods: { readonly synced: boolean; readonly error: string | null };
  readonly policy: RemovalPolicy;
  readonly addressing: Addressing;
  readonly namespace: string;
  readonly labelSelector: string;
  readonly workers: readonly WorkerRow[];
  /** Pods that have no address yet, with why. */
  readonly unaddressed: readonly { readonly pod: string; readonly problem: string }[];
}
