import type { KubeObject } from '../adapters/kube.js';
import type { PodPhase, TaskPod, TaskPodSpec } from './types.js';

export const MANAGED_BY = 'pgdeck-autoscaler';
export const LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  taskId: 'pgdeck.io/task-id',
  index: 'pgdeck.io/task-index',
} as const;
export const ENTRY_ANNOTATION = 'pgdeck.io/entry-id';
export const TASK_POD_SELECTOR = `${LABELS.managedBy}=${MANAGED_BY}`;

/** Deterministic, so a redelivered event names the same pods and creates none twice. */
export function taskPodName(taskId: string, index: number): string {
  return `otto-worker-${taskId}-${index}`;
}

/** The pod of one task's worker: requests and limits, labels the agent selects on, never restarted. */
export function taskPodManifest(
  namespace: string,
  taskId: string,
  index: number,
  entryId: string,
  spec: TaskPodSpec,
): KubeObject {
  return {
    metadata: {
      name: taskPodName(taskId, index),
      namespace,
      labels: { [LABELS.managedBy]: MANAGED_BY, [LABELS.taskId]: taskId, [LABELS.index]: String(index) },
      annotations: { [ENTRY_ANNOTATION]: entryId },
    },
    spec: {
      restartPolicy: 'Never',
      containers: [
        {
          name: 'agent',
          image: spec.image,
          env: [
            { name: 'TASK_ID', value: taskId },
            { name: 'TASK_INDEX', value: String(index) },
          ],
          resources: {
            requests: { cpu: spec.cpuRequest, memory: spec.memoryRequest },
            limits: { cpu: spec.cpuLimit, memory: spec.memoryLimit },
          },
        },
      ],
    },
  };
}

interface PodStatusView {
  readonly phase?: string;
  readonly containerStatuses?: readonly {
    readonly state?: { readonly terminated?: { readonly finishedAt?: string } };
  }[];
}

const PHASES: readonly PodPhase[] = ['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'];

/** A task pod out of the informer's object; undefined for a pod without the task labels. */
export function taskPodOf(object: KubeObject): TaskPod | undefined {
  const meta = object.metadata;
  const taskId = meta?.labels?.[LABELS.taskId];
  const name = meta?.name;
  if (taskId === undefined || name === undefined) return undefined;
  const status = (object.status ?? {}) as PodStatusView;
  const phase = PHASES.find((p) => p === status.phase) ?? 'Pending';
  const finished = (status.containerStatuses ?? [])
    .map((c) => Date.parse(c.state?.terminated?.finishedAt ?? ''))
    .filter((t) => Number.isFinite(t));
  const terminal = phase === 'Succeeded' || phase === 'Failed';
  return {
    name,
    taskId,
    index: Number(meta?.labels?.[LABELS.index] ?? -1),
    phase,
    deleting: meta?.deletionTimestamp !== undefined,
    finishedAt: terminal ? (finished.length > 0 ? Math.max(...finished) : 0) : null,
  };
}
