import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KUBE_RESOURCES, type KubeClient, type KubeInformer } from '../../../src/agents/adapters/kube.js';
import { TaskPodIndex } from '../../../src/agents/autoscaler/pod-index.js';
import { LABELS, MANAGED_BY, TASK_POD_SELECTOR, taskPodManifest } from '../../../src/agents/autoscaler/task-pods.js';
import type { TaskPod, TaskPodSpec } from '../../../src/agents/autoscaler/types.js';
import { POD_COMPLETE_ANNOTATION } from '../../../src/lab/procs/kwok-stages.js';
import { adminKube, eventually, withKube } from '../../helpers/kube.js';

/**
 * TaskPodIndex on its own, over a real pod informer of a real control plane (kwok runs the pods):
 * what it counts as each change comes through the informer, and how reservations behave.
 */
const kube = withKube({ nodes: 1 });
const SPEC: TaskPodSpec = {
  image: 'registry.example/otto-agent:1.0',
  cpuRequest: '10m',
  memoryRequest: '16Mi',
  cpuLimit: '100m',
  memoryLimit: '64Mi',
};
const FINALIZER = 'pgdeck.io/test-hold';
let admin: KubeClient;
let namespace: string;
let informer: KubeInformer;
const stop = new AbortController();

beforeAll(async () => {
  admin = adminKube(kube());
  namespace = await kube().namespace('pod-index');
  informer = admin.informers.informer(
    { resource: KUBE_RESOURCES.pods, namespace, labelSelector: TASK_POD_SELECTOR },
    stop.signal,
  );
  await eventually('the pod informer synced', () => Promise.resolve(informer.state().synced));
}, 180_000);

afterAll(async () => {
  stop.abort();
  await admin?.close();
});

const writer = () => admin.objects('test-pod-index');
/** Partial applies go as another field manager, so they leave the pod's spec alone. */
const marker = () => admin.objects('test-pod-marker');
const createPod = (taskId: string, index: number) =>
  writer().apply(KUBE_RESOURCES.pods, taskPodManifest(namespace, taskId, index, '1-0', SPEC));
const seen = (name: string, check: (o: NonNullable<ReturnType<KubeInformer['get']>>) => boolean = () => true) =>
  eventually(`${name} in the informer`, () => {
    const o = informer.get(name, namespace);
    return Promise.resolve(o !== undefined && check(o));
  });
const gone = (name: string) =>
  eventually(`${name} gone from the informer`, () => Promise.resolve(informer.get(name, namespace) === undefined));
const names = (pods: readonly TaskPod[]): string[] => pods.map((p) => p.name).sort();
const planned = (taskId: string, index: number): TaskPod => ({
  name: `otto-worker-${taskId}-${index}`,
  taskId,
  index,
  phase: 'Pending',
  deleting: false,
  finishedAt: null,
});

describe('TaskPodIndex over a real pod informer', () => {
  it('starts from what the informer lists and ignores pods without a task label', async () => {
    await createPod('pre', 0);
    await writer().apply(KUBE_RESOURCES.pods, {
      metadata: { name: 'unlabelled', namespace, labels: { [LABELS.managedBy]: MANAGED_BY } },
      spec: { containers: [{ name: 'c', image: SPEC.image }] },
    });
    await seen('otto-worker-pre-0');
    await seen('unlabelled');
    const index = new TaskPodIndex(informer);
    try {
      expect(names(index.pods())).toEqual(['otto-worker-pre-0']);
      expect(index.inFlight).toBe(1);
      expect(names(index.ofTask('pre', Date.now()))).toEqual(['otto-worker-pre-0']);
      expect(index.ofTask('unlabelled', Date.now())).toEqual([]);
      expect(index.pods()).toBe(index.pods());
    } finally {
      index.close();
    }
  }, 60_000);

  it('holds a reserved create until the informer shows it, then counts it once', async () => {
    const index = new TaskPodIndex(informer);
    try {
      const base = index.inFlight;
      const now = Date.now();
      index.reserve(planned('hold', 0), now);
      index.reserve(planned('hold', 0), now);
      expect(index.inFlight).toBe(base + 1);
      expect(names(index.ofTask('hold', now))).toEqual(['otto-worker-hold-0']);
      expect(names(index.pods())).not.toContain('otto-worker-hold-0');

      const before = index.pods();
      await createPod('hold', 0);
      await seen('otto-worker-hold-0');
      expect(index.pods()).not.toBe(before);
      expect(names(index.pods())).toContain('otto-worker-hold-0');
      expect(index.inFlight).toBe(base + 1);
      expect(names(index.ofTask('hold', Date.now()))).toEqual(['otto-worker-hold-0']);

      // a reservation of a pod the informer already shows adds nothing
      index.reserve(planned('hold', 0), Date.now());
      expect(index.inFlight).toBe(base + 1);
      expect(index.ofTask('hold', Date.now())).toHaveLength(1);

      // released by hand (the create failed): no longer counted
      index.reserve(planned('hold', 1), Date.now());
      expect(index.inFlight).toBe(base + 2);
      index.release('otto-worker-hold-1');
      expect(index.inFlight).toBe(base + 1);
      expect(names(index.ofTask('hold', Date.now()))).toEqual(['otto-worker-hold-0']);
    } finally {
      index.close();
    }
  }, 60_000);

  it('drops a reservation the informer never shows after its TTL', () => {
    const index = new TaskPodIndex(informer);
    try {
      const base = index.inFlight;
      const t = Date.now();
      index.reserve(planned('lost', 0), t);
      expect(names(index.ofTask('lost', t + 59_000))).toEqual(['otto-worker-lost-0']);
      expect(index.inFlight).toBe(base + 1);
      expect(index.ofTask('lost', t + 61_000)).toEqual([]);
      expect(index.inFlight).toBe(base);
    } finally {
      index.close();
    }
  });

  it('follows updates: a finished pod leaves the in-flight count but stays the task’s', async () => {
    const index = new TaskPodIndex(informer);
    try {
      await createPod('done', 0);
      await seen('otto-worker-done-0', (o) => (o.status as { phase?: string } | undefined)?.phase === 'Running');
      const running = index.inFlight;
      expect(index.ofTask('done', Date.now())).toEqual([
        expect.objectContaining({ phase: 'Running', finishedAt: null }),
      ]);
      await marker().apply(KUBE_RESOURCES.pods, {
        metadata: { name: 'otto-worker-done-0', namespace, annotations: { [POD_COMPLETE_ANNOTATION]: 'Succeeded' } },
      });
      await seen('otto-worker-done-0', (o) => (o.status as { phase?: string } | undefined)?.phase === 'Succeeded');
      const [done] = index.ofTask('done', Date.now());
      expect(done?.phase).toBe('Succeeded');
      expect(done?.finishedAt).toBeGreaterThan(0);
      expect(index.inFlight).toBe(running - 1);
    } finally {
      index.close();
    }
  }, 60_000);

  it('a pod on its way out is not in flight; deleted, it leaves its task', async () => {
    const index = new TaskPodIndex(informer);
    try {
      await createPod('out', 0);
      await marker().apply(KUBE_RESOURCES.pods, {
        metadata: { name: 'otto-worker-out-0', namespace, finalizers: [FINALIZER] },
      });
      await seen('otto-worker-out-0', (o) => (o.metadata?.finalizers ?? []).includes(FINALIZER));
      const before = index.inFlight;
      await writer().delete({ resource: KUBE_RESOURCES.pods, namespace, name: 'otto-worker-out-0' });
      await seen('otto-worker-out-0', (o) => o.metadata?.deletionTimestamp !== undefined);
      expect(index.ofTask('out', Date.now())).toEqual([expect.objectContaining({ deleting: true })]);
      expect(index.inFlight).toBe(before - 1);
      await marker().apply(KUBE_RESOURCES.pods, {
        metadata: { name: 'otto-worker-out-0', namespace, finalizers: [] },
      });
      await gone('otto-worker-out-0');
      expect(index.ofTask('out', Date.now())).toEqual([]);
      expect(names(index.pods())).not.toContain('otto-worker-out-0');
      expect(index.inFlight).toBe(before - 1);
    } finally {
      index.close();
    }
  }, 60_000);

  it('after close, changes no longer reach it', async () => {
    const index = new TaskPodIndex(informer);
    const before = index.inFlight;
    index.close();
    await createPod('late', 0);
    await seen('otto-worker-late-0');
    expect(names(index.pods())).not.toContain('otto-worker-late-0');
    expect(index.inFlight).toBe(before);
  }, 60_000);
});
