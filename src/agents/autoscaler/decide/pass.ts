import type { Decision } from '../../kernel/agent.js';
import type { DecisionEvent } from '../../kernel/journal.js';
import type {
  AutoscalerAction,
  AutoscalerConfig,
  AutoscalerObserved,
  AutoscalerState,
  PodPhase,
  TaskPod,
  TaskWorkers,
} from '../types.js';
import { inFlight } from './entry.js';

const noPhases = (): Record<PodPhase, number> => ({ Pending: 0, Running: 0, Succeeded: 0, Failed: 0, Unknown: 0 });

/** Task ids in the order of `localeCompare`, without building a collator per comparison. */
const byTaskId = new Intl.Collator().compare;
/** The pass reads the same pods array until a pod changes (TaskPodIndex.pods): grouped once per array. */
const grouped = new WeakMap<readonly TaskPod[], readonly TaskWorkers[]>();

/** Workers by phase per task, in task order. */
export function tasksOf(pods: readonly TaskPod[]): readonly TaskWorkers[] {
  const known = grouped.get(pods);
  if (known !== undefined) return known;
  const byTask = new Map<string, TaskPod[]>();
  for (const p of pods) {
    const own = byTask.get(p.taskId);
    if (own === undefined) byTask.set(p.taskId, [p]);
    else own.push(p);
  }
  const tasks = [...byTask.entries()]
    .sort(([a], [b]) => byTaskId(a, b))
    .map(([taskId, own]) => {
      const phases = noPhases();
      for (const p of own) phases[p.phase] += 1;
      return { taskId, phases, pods: own.map((p) => p.name).sort() };
    });
  grouped.set(pods, tasks);
  return tasks;
}

/** Tasks whose every pod has finished: their result can be recorded. */
export function finishedTasks(pods: readonly TaskPod[]): string[] {
  return tasksOf(pods)
    .filter((t) => t.phases.Pending + t.phases.Running + t.phases.Unknown === 0)
    .map((t) => t.taskId);
}

/**
 * One pass of the autoscaler's own loop: delete finished task pods once their retention is over, record
 * each task's result once, and publish the stream and workers. The events themselves are handled by
 * the stream consumer (decide/entry.ts), one entry at a time.
 */
export function decideAutoscaler(
  observed: AutoscalerObserved,
  now: number,
  config: AutoscalerConfig,
): Decision<AutoscalerAction, AutoscalerState> {
  const retentionMs = config.retentionSeconds * 1000;
  const done = new Set(finishedTasks(observed.pods));
  // a task's pods stay until the whole task has finished and its last pod's retention is over, so the
  // recorded result counts every pod of it
  const doneAt = new Map<string, number>();
  for (const p of observed.pods)
    if (done.has(p.taskId)) doneAt.set(p.taskId, Math.max(doneAt.get(p.taskId) ?? 0, p.finishedAt ?? 0));
  const live = observed.pods.filter((p) => !p.deleting && doneAt.has(p.taskId));
  const expiry = (p: TaskPod): number => (doneAt.get(p.taskId) ?? 0) + retentionMs;
  const expired = live.filter((p) => expiry(p) <= now).map((p) => p.name);
  const later = live.filter((p) => expiry(p) > now).map((p) => expiry(p) - now);
  const tasks = tasksOf(observed.pods);
  const reported = new Set(observed.reported);
  const events: DecisionEvent[] = [];
  for (const t of tasks)
    if (done.has(t.taskId) && !reported.has(t.taskId))
      events.push({
        severity: t.phases.Failed > 0 ? 'warn' : 'info',
        kind: 'task-finished',
        message: `task ${t.taskId} finished: ${t.phases.Succeeded} succeeded, ${t.phases.Failed} failed`,
        fields: { taskId: t.taskId, succeeded: t.phases.Succeeded, failed: t.phases.Failed },
      });
  const s = observed.stream;
  const flying = inFlight(observed.pods);
  const publish: AutoscalerState = {
    stream: config.redis.stream,
    group: config.redis.consumerGroup,
    consumer: config.consumer,
    deadLetterStream: config.redis.deadLetterStream,
    redis: { reachable: s.reachable, error: s.error },
    length: s.length,
    lag: s.lag,
    pending: s.pending,
    consumers: s.consumers,
    inFlight: flying,
    maxPodsInFlight: config.maxPodsInFlight,
    tasks,
    targets: observed.targets,
    deadLetters: s.deadLetters,
    lastDeadLetters: s.lastDeadLetters,
  };
  const parts = [
    s.reachable ? `lag ${s.lag ?? '?'}, ${s.pending} pending` : `redis unreachable (${s.error ?? 'unknown'})`,
    `${tasks.length} task(s), ${flying}/${config.maxPodsInFlight} pods in flight`,
    ...(s.deadLetters > 0 ? [`${s.deadLetters} dead-lettered`] : []),
    ...(observed.podsSynced ? [] : ['pod informer not synced']),
    ...observed.targetErrors,
    ...(expired.length > 0 ? [`deleting ${expired.length} finished pod(s)`] : []),
  ];
  return {
    actions: expired.length > 0 ? [{ kind: 'delete-finished', names: expired }] : [],
    summary: parts.join('; '),
    ...(later.length > 0 ? { requeueAfterMs: Math.max(10, Math.min(...later)) } : {}),
    publish,
    events,
  };
}
