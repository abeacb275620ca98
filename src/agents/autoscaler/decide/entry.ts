import type { AutoscalerConfig, EntryPlan, EntryView, ParsedEntry, TaskPod } from '../types.js';

/** Pods that still take a slot: not finished and not on their way out. */
export function inFlight(pods: readonly TaskPod[]): number {
  return pods.filter((p) => !p.deleting && p.finishedAt === null).length;
}

/** Which of a task's pods a scale_down removes: the idle (not yet running) ones first, then the newest. */
function podsToRemove(pods: readonly TaskPod[], count: number): string[] {
  const order = (p: TaskPod): number => (p.phase === 'Running' ? 1 : 0);
  return [...pods]
    .filter((p) => !p.deleting)
    .sort((a, b) => order(a) - order(b) || b.index - a.index)
    .slice(0, count)
    .map((p) => p.name);
}

/**
 * What handling one stream entry does: pure, from the entry and what was observed for it. A malformed
 * entry is dead-lettered; a scale_up that would exceed the in-flight limit waits (the consumer stops
 * reading) rather than failing; every other outcome ends with the acknowledgement.
 */
export function decideEntry(entry: ParsedEntry, view: EntryView, config: AutoscalerConfig, now: number): EntryPlan {
  if (entry.kind === 'malformed')
    return {
      kind: 'do',
      actions: [{ kind: 'dead-letter', reason: entry.reason }],
      summary: `dead-lettered: ${entry.reason}`,
    };
  const { event } = entry;
  if (event.target !== undefined) {
    const spec = config.targets[event.target];
    const target = view.target;
    if (spec === undefined || target === null)
      return {
        kind: 'do',
        actions: [{ kind: 'dead-letter', reason: `target "${event.target}" is not configured` }],
        summary: `dead-lettered: target "${event.target}" is not configured`,
      };
    const current = target.replicas;
    const last = view.lastScale;
    if (last !== null && last.entryId === entry.id) {
      if (last.replicas === current)
        return {
          kind: 'do',
          actions: [{ kind: 'ack' }],
          summary: `${event.target}: already at ${current} replicas from this event (redelivered)`,
        };
      return {
        kind: 'do',
        actions: [
          { kind: 'scale-target', target: event.target, from: current, replicas: last.replicas },
          { kind: 'ack' },
        ],
        summary: `${event.target}: scaling ${current} -> ${last.replicas} replicas again (redelivered)`,
      };
    }
    if (event.type === 'scale_down' && last !== null) {
      const left = last.at + spec.cooldownSeconds * 1000 - now;
      if (left > 0)
        return {
          kind: 'do',
          actions: [{ kind: 'ack' }],
          summary: `${event.target}: scale_down ignored, cooling down for ${Math.ceil(left / 1000)} s more`,
        };
    }
    const wanted = event.type === 'scale_up' ? current + event.podCount : current - event.podCount;
    const replicas = Math.min(spec.max, Math.max(spec.min, wanted));
    if (replicas === current)
      return {
        kind: 'do',
        actions: [{ kind: 'ack' }],
        summary: `${event.target}: stays at ${current} replicas (bounds ${spec.min}..${spec.max})`,
      };
    return {
      kind: 'do',
      actions: [{ kind: 'scale-target', target: event.target, from: current, replicas }, { kind: 'ack' }],
      summary: `${event.target}: scaling ${current} -> ${replicas} replicas (bounds ${spec.min}..${spec.max})`,
    };
  }
  const own = view.pods.filter((p) => p.taskId === event.taskId);
  if (event.type === 'scale_down') {
    const names = podsToRemove(own, event.podCount);
    if (names.length === 0)
      return { kind: 'do', actions: [{ kind: 'ack' }], summary: `task ${event.taskId}: no pods to remove` };
    return {
      kind: 'do',
      actions: [{ kind: 'delete-pods', names }, { kind: 'ack' }],
      summary: `task ${event.taskId}: removing ${names.length} pod(s)`,
    };
  }
  const present = new Set(own.map((p) => p.index));
  const indexes = Array.from({ length: event.podCount }, (_, i) => i).filter((i) => !present.has(i));
  if (indexes.length === 0)
    return {
      kind: 'do',
      actions: [{ kind: 'ack' }],
      summary: `task ${event.taskId}: all ${event.podCount} pods exist`,
    };
  if (view.inFlight + indexes.length > config.maxPodsInFlight)
    return {
      kind: 'wait',
      reason: `${view.inFlight} pods in flight, ${indexes.length} more for task ${event.taskId} would pass the limit of ${config.maxPodsInFlight}`,
    };
  return {
    kind: 'do',
    actions: [{ kind: 'create-pods', taskId: event.taskId, indexes }, { kind: 'ack' }],
    summary: `task ${event.taskId}: creating ${indexes.length} pod(s)`,
  };
}
