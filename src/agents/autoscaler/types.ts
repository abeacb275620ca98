/**
 * The autoscaler agent's types: its config, the scale events it reads from a Redis Stream, what it
 * observes of Redis and Kubernetes, its actions and its published state (what `/state` and the TUI read).
 */

export type TargetKind = 'StatefulSet' | 'Deployment' | 'PostgresCluster';

/** A workload scaled through its scale subresource, named by events' `target` field. */
export interface ReplicaTarget {
  readonly kind: TargetKind;
  readonly name: string;
  readonly min: number;
  readonly max: number;
  /** After a scale, a scale_down waits this long (scale_up never waits). */
  readonly cooldownSeconds: number;
}

export interface TaskPodSpec {
  readonly image: string;
  readonly cpuRequest: string;
  readonly memoryRequest: string;
  readonly cpuLimit: string;
  readonly memoryLimit: string;
}

export interface AutoscalerConfig {
  readonly redis: {
    readonly host: string;
    readonly port: number;
    readonly password?: string;
    readonly stream: string;
    readonly consumerGroup: string;
    readonly deadLetterStream: string;
  };
  /** Consumer name in the group: the pod's name, so several replicas share the work. */
  readonly consumer: string;
  readonly namespace: string;
  /** A kubeconfig path; empty: $KUBECONFIG, in-cluster, then ~/.kube/config. */
  readonly kubeconfig: string;
  readonly kubeContext: string;
  readonly agentImage: string;
  readonly pod: Omit<TaskPodSpec, 'image'>;
  /** Largest pod_count an event may ask for. */
  readonly podCountLimit: number;
  /** Task pods not yet finished, at most; the consumer stops reading at the limit. */
  readonly maxPodsInFlight: number;
  /** Stream entries handled at the same time, at most (one at a time per task and per target). */
  readonly maxEntriesInFlight: number;
  /** Pod creations per second (a token bucket of this rate and burst). */
  readonly createsPerSecond: number;
  readonly createBurst: number;
  /** Finished task pods are deleted this long after they finished. */
  readonly retentionSeconds: number;
  /** Entries pending longer than this with a consumer are claimed (XAUTOCLAIM). */
  readonly claimIdleMs: number;
  /** An entry whose handling failed this often goes to the dead-letter stream. */
  readonly maxAttempts: number;
  readonly blockMs: number;
  readonly targets: Readonly<Record<string, ReplicaTarget>>;
}

/** A valid scale event (the replaced tool's format: `type scale_up pod_count 3 task_id task-123`). */
export interface ScaleEvent {
  readonly type: 'scale_up' | 'scale_down';
  readonly podCount: number;
  readonly taskId: string;
  readonly target?: string;
}

export type ParsedEntry =
  | { readonly kind: 'event'; readonly id: string; readonly event: ScaleEvent }
  | { readonly kind: 'malformed'; readonly id: string; readonly reason: string };

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';

/** A task pod as the agent sees it (from the shared pod informer). */
export interface TaskPod {
  readonly name: string;
  readonly taskId: string;
  readonly index: number;
  readonly phase: PodPhase;
  readonly deleting: boolean;
  /** When its containers finished (ms since epoch), null while it runs. */
  readonly finishedAt: number | null;
}

export interface TargetScale {
  readonly name: string;
  readonly kind: TargetKind;
  readonly replicas: number;
  readonly currentReplicas: number;
  readonly min: number;
  readonly max: number;
  readonly resourceVersion: string;
}

/** What one entry of the stream needs to know of the world when it is handled. */
export interface EntryView {
  /** The pods of the event's task (observed, and reserved by decisions the informer has not shown yet). */
  readonly pods: readonly TaskPod[];
  /** Task pods in flight, of every task. */
  readonly inFlight: number;
  /** The target the event names, read just now; null when the event names none. */
  readonly target: TargetScale | null;
  /** The last scale any replica of this agent made of the target (its annotation), null if none. */
  readonly lastScale: LastScale | null;
}

/** A scale of a target by this agent, kept as an annotation on the target so every replica sees it. */
export interface LastScale {
  /** The stream entry that asked for it: a redelivered entry sets this count again, never adds twice. */
  readonly entryId: string;
  /** When it was made (ms since epoch): the start of the cooldown. */
  readonly at: number;
  readonly replicas: number;
}

/** What the handling of one entry does, in order, before it is acknowledged. */
export type EntryAction =
  | { readonly kind: 'create-pods'; readonly taskId: string; readonly indexes: readonly number[] }
  | { readonly kind: 'delete-pods'; readonly names: readonly string[] }
  | { readonly kind: 'scale-target'; readonly target: string; readonly from: number; readonly replicas: number }
  | { readonly kind: 'dead-letter'; readonly reason: string }
  | { readonly kind: 'ack' };

/** What handling an entry comes to: its actions, or a wait (backpressure) without acknowledging. */
export type EntryPlan =
  | { readonly kind: 'do'; readonly actions: readonly EntryAction[]; readonly summary: string }
  | { readonly kind: 'wait'; readonly reason: string };

export interface DeadLetterInfo {
  readonly id: string;
  readonly originalId: string;
  readonly reason: string;
  readonly fields: Readonly<Record<string, string>>;
}

export interface ConsumerStatus {
  readonly name: string;
  readonly pending: number;
  readonly idleMs: number;
}

/** Redis as one pass read it; `reachable: false` is an outage, not an error. */
export interface StreamObservation {
  readonly reachable: boolean;
  readonly error: string | null;
  readonly length: number;
  readonly lag: number | null;
  readonly pending: number;
  readonly consumers: readonly ConsumerStatus[];
  readonly deadLetters: number;
  readonly lastDeadLetters: readonly DeadLetterInfo[];
}

export interface AutoscalerObserved {
  readonly stream: StreamObservation;
  readonly podsSynced: boolean;
  readonly pods: readonly TaskPod[];
  readonly targets: readonly TargetScale[];
  readonly targetErrors: readonly string[];
  /** Tasks whose result was already recorded (all pods finished). */
  readonly reported: readonly string[];
}

export type AutoscalerAction = { readonly kind: 'delete-finished'; readonly names: readonly string[] };

export interface TaskWorkers {
  readonly taskId: string;
  readonly phases: Readonly<Record<PodPhase, number>>;
  readonly pods: readonly string[];
}

export interface AutoscalerState {
  readonly stream: string;
  readonly group: string;
  readonly consumer: string;
  readonly deadLetterStream: string;
  readonly redis: { readonly reachable: boolean; readonly error: string | null };
  readonly length: number;
  readonly lag: number | null;
  readonly pending: number;
  readonly consumers: readonly ConsumerStatus[];
  readonly inFlight: number;
  readonly maxPodsInFlight: number;
  readonly tasks: readonly TaskWorkers[];
  readonly targets: readonly TargetScale[];
  readonly deadLetters: number;
  readonly lastDeadLetters: readonly DeadLetterInfo[];
}

/** The memory of passes: which tasks' results were recorded already. */
export interface AutoscalerMemory {
  readonly reported: readonly string[];
}
