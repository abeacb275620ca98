import type { InformerChange, KubeInformer, KubeObject } from '../adapters/kube.js';
import { taskPodOf } from './task-pods.js';
import type { TaskPod } from './types.js';

/** A create the informer has not shown after this long is no longer counted in flight. */
const RESERVED_TTL_MS = 60_000;
/** Expired reservations are looked for at most this often. */
const SWEEP_MS = 1_000;

const takesSlot = (p: TaskPod): boolean => !p.deleting && p.finishedAt === null;

function add(byTask: Map<string, Map<string, TaskPod>>, pod: TaskPod): void {
  let own = byTask.get(pod.taskId);
  if (own === undefined) byTask.set(pod.taskId, (own = new Map()));
  own.set(pod.name, pod);
}

function remove(byTask: Map<string, Map<string, TaskPod>>, pod: TaskPod): void {
  const own = byTask.get(pod.taskId);
  if (own === undefined) return;
  own.delete(pod.name);
  if (own.size === 0) byTask.delete(pod.taskId);
}

/**
 * The task pods of the pod informer, kept up to date one change at a time (never rebuilt per stream
 * entry): by task, with the count of pods in flight. Pods a decision is about to create are reserved
 * here until the informer shows them, so they count in flight and as the task's from the moment of
 * the decision. `pods()` is the observed ones only, the same array until the next change.
 */
export class TaskPodIndex {
  private readonly observed = new Map<string, TaskPod>();
  private readonly observedByTask = new Map<string, Map<string, TaskPod>>();
  private readonly reserved = new Map<string, { readonly pod: TaskPod; readonly at: number }>();
  private readonly reservedByTask = new Map<string, Map<string, TaskPod>>();
  private observedInFlight = 0;
  private all: readonly TaskPod[] | undefined;
  private lastSweep = Number.NEGATIVE_INFINITY;
  private readonly unsubscribe: () => void;

  constructor(informer: KubeInformer) {
    this.unsubscribe = informer.subscribe((change) => this.apply(change));
    for (const object of informer.list()) this.put(object);
  }

  /** Task pods not finished and not on their way out, reserved ones included. */
  get inFlight(): number {
    return this.observedInFlight + this.reserved.size;
  }

  /** The observed task pods (the same array while nothing changed). */
  pods(): readonly TaskPod[] {
    this.all ??= [...this.observed.values()];
    return this.all;
  }

  /** One task's pods, observed and reserved; reservations older than the TTL are dropped first. */
  ofTask(taskId: string, now: number): TaskPod[] {
    this.sweep(now);
    return [...(this.observedByTask.get(taskId)?.values() ?? []), ...(this.reservedByTask.get(taskId)?.values() ?? [])];
  }

  reserve(pod: TaskPod, now: number): void {
    if (this.observed.has(pod.name)) return;
    this.release(pod.name);
    this.reserved.set(pod.name, { pod, at: now });
    add(this.reservedByTask, pod);
  }

  release(name: string): void {
    const held = this.reserved.get(name);
    if (held === undefined) return;
    this.reserved.delete(name);
    remove(this.reservedByTask, held.pod);
  }

  close(): void {
    this.unsubscribe();
  }

  private apply(change: InformerChange<KubeObject>): void {
    switch (change.kind) {
      case 'added':
      case 'modified':
        this.put(change.object);
        return;
      case 'deleted':
        this.drop(change.object.metadata?.name);
        return;
      case 'synced':
      case 'error':
        return;
      default:
        return change satisfies never;
    }
  }

  private put(object: KubeObject): void {
    const name = object.metadata?.name;
    this.drop(name);
    const pod = taskPodOf(object);
    if (pod === undefined) return;
    this.release(pod.name);
    this.observed.set(pod.name, pod);
    add(this.observedByTask, pod);
    if (takesSlot(pod)) this.observedInFlight += 1;
    this.all = undefined;
  }

  private drop(name: string | undefined): void {
    const old = name === undefined ? undefined : this.observed.get(name);
    if (old === undefined) return;
    this.observed.delete(old.name);
    remove(this.observedByTask, old);
    if (takesSlot(old)) this.observedInFlight -= 1;
    this.all = undefined;
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < SWEEP_MS) return;
    this.lastSweep = now;
    for (const [name, held] of this.reserved) if (now - held.at > RESERVED_TTL_MS) this.release(name);
  }
}
