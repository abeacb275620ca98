import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { lastScaleField, lastScaleKey, parseLastScale } from '../../../src/agents/autoscaler/last-scale.js';
import { taskPodName } from '../../../src/agents/autoscaler/task-pods.js';
import { eventually, withKube } from '../../helpers/kube.js';
import { withRedis } from '../../helpers/services.js';
import { autoscalers, childConsumers, completePod, configFor, kubeApis, taskPods } from './harness.js';

describe('autoscaler against real Redis and a real API server', () => {
  const cluster = withKube({ nodes: 2 });
  const redis = withRedis({ persistent: true });
  const start = autoscalers();
  const spawnConsumer = childConsumers();

  const raw = (): Redis => {
    const client = new Redis({ host: redis().host, port: redis().port });
    client.on('error', () => undefined);
    return client;
  };

  it('scale_up creates the pods once, they run, complete, and are cleaned after the retention', async () => {
    const namespace = await cluster().namespace('as-up');
    const config = configFor(cluster(), redis(), namespace, { retentionSeconds: 1 });
    const agent = await start(config);
    const { core } = kubeApis(cluster());
    const r = raw();
    await eventually('the consumer group', async () => (await r.xinfo('GROUPS', config.redis.stream)) as unknown[]);
    const id = await r.xadd(config.redis.stream, '*', 'type', 'scale_up', 'pod_count', '3', 'task_id', 'task-123');

    const running = await eventually('3 pods Running', async () => {
      const pods = await taskPods(core, namespace);
      return pods.length === 3 && pods.every((p) => p.status?.phase === 'Running') ? pods : undefined;
    });
    expect(running.map((p) => p.metadata?.name)).toEqual([0, 1, 2].map((i) => taskPodName('task-123', i)));
    const [first] = running;
    expect(first?.metadata?.labels).toMatchObject({
      'app.kubernetes.io/managed-by': 'pgdeck-autoscaler',
      'pgdeck.io/task-id': 'task-123',
    });
    expect(first?.metadata?.annotations?.['pgdeck.io/entry-id']).toBe(id);
    expect(first?.spec?.containers[0]?.resources).toEqual({
      requests: { cpu: '100m', memory: '128Mi' },
      limits: { cpu: '1', memory: '512Mi' },
    });
    expect(first?.spec?.containers[0]?.image).toBe('registry.example/otto-agent:1.0');
    await eventually(
      'the entry acknowledged',
      async () => (await r.xpending(config.redis.stream, 'autoscaler'))[0] === 0,
    );

    const state = await eventually('the published workers', () => {
      const s = agent.store.getSnapshot().state;
      return Promise.resolve(s?.tasks[0]?.phases.Running === 3 ? s : undefined);
    });
    expect(state.tasks.map((t) => t.taskId)).toEqual(['task-123']);
    expect(state.inFlight).toBe(3);

    for (const p of running)
      await completePod(core, namespace, p.metadata!.name!, p === first ? 'Failed' : 'Succeeded');
    const finished = await eventually('the task result recorded', () =>
      Promise.resolve(agent.reader.events(0).events.find((e) => e.kind === 'task-finished')),
    );
    expect(finished.message).toBe('task task-123 finished: 2 succeeded, 1 failed');
    await eventually('finished pods deleted', async () => (await taskPods(core, namespace)).length === 0);
    expect(agent.reader.events(0).events.filter((e) => e.kind === 'task-finished')).toHaveLength(1);
    r.disconnect();
  });

  it('scale_down removes the idle pods of a task first', async () => {
    const namespace = await cluster().namespace('as-down');
    const config = configFor(cluster(), redis(), namespace);
    await start(config);
    const { core } = kubeApis(cluster());
    const r = raw();
    await eventually('the consumer group', async () => (await r.xinfo('GROUPS', config.redis.stream)) as unknown[]);
    await r.xadd(config.redis.stream, '*', 'type', 'scale_up', 'pod_count', '3', 'task_id', 't1');
    await eventually('3 pods', async () => (await taskPods(core, namespace)).length === 3);
    await r.xadd(config.redis.stream, '*', 'type', 'scale_down', 'pod_count', '2', 'task_id', 't1');
    const left = await eventually('one pod left', async () => {
      const pods = (await taskPods(core, namespace)).filter((p) => p.metadata?.deletionTimestamp === undefined);
      return pods.length === 1 ? pods : undefined;
    });
    expect(left[0]?.metadata?.name).toBe(taskPodName('t1', 0));
    r.disconnect();
  });

  it('dead-letters malformed events with their reasons while good events keep flowing', async () => {
    const namespace = await cluster().namespace('as-bad');
    const config = configFor(cluster(), redis(), namespace);
    await start(config);
    const { core } = kubeApis(cluster());
    const r = raw();
    await eventually('the consumer group', async () => (await r.xinfo('GROUPS', config.redis.stream)) as unknown[]);
    const s = config.redis.stream;
    const bad: [string[], string][] = [
      [['type', 'scale_up', 'task_id', 'x'], 'pod_count is missing'],
      [['type', 'scale_up', 'pod_count', 'abc', 'task_id', 'x'], 'pod_count must be a whole number, got "abc"'],
      [['type', 'scale_up', 'pod_count', '-1', 'task_id', 'x'], 'pod_count must be 1..50, got "-1"'],
      [['type', 'scale_up', 'pod_count', '1000000000', 'task_id', 'x'], 'pod_count must be 1..50, got "1000000000"'],
      [['type', 'explode', 'pod_count', '1', 'task_id', 'x'], 'type must be scale_up or scale_down, got "explode"'],
      [
        ['type', 'scale_up', 'pod_count', '1', 'task_id', 'has spaces'],
        'task_id must be lowercase letters, digits and -, starting and ending with a letter or digit, got "has spaces"',
      ],
      [['type', 'scale_up', 'pod_count', '1', 'task_id', 'a'.repeat(300)], 'task_id must be at most 40 characters'],
    ];
    const ids: string[] = [];
    for (const [i, [fields]] of bad.entries()) {
      ids.push((await r.xadd(s, '*', ...fields))!);
      await r.xadd(s, '*', 'type', 'scale_up', 'pod_count', '1', 'task_id', `good-${i}`);
    }
    const dead = await eventually('7 dead letters', async () => {
      const entries = await r.xrange(config.redis.deadLetterStream, '-', '+');
      return entries.length === bad.length ? entries : undefined;
    });
    const byOrigin = new Map(
      dead.map(([, flat]) => {
        const f = new Map<string, string>();
        for (let i = 0; i + 1 < flat.length; i += 2) f.set(flat[i]!, flat[i + 1]!);
        return [f.get('dlq.id'), f.get('dlq.reason')] as const;
      }),
    );
    for (const [i, [, reason]] of bad.entries()) expect(byOrigin.get(ids[i])).toContain(reason);
    const pods = await eventually('7 good tasks running', async () => {
      const list = await taskPods(core, namespace);
      return list.length === bad.length ? list : undefined;
    });
    expect(pods.map((p) => p.metadata?.labels?.['pgdeck.io/task-id']).sort()).toEqual(bad.map((_, i) => `good-${i}`));
    await eventually('nothing pending', async () => (await r.xpending(s, 'autoscaler'))[0] === 0);
    r.disconnect();
  });

  it('a consumer killed between read and acknowledge: another claims the entry and no pod is created twice', async () => {
    const namespace = await cluster().namespace('as-crash');
    // one create per second: the first replica is killed after its first pod, before the acknowledgement
    const base = configFor(cluster(), redis(), namespace, { createsPerSecond: 1, createBurst: 1, claimIdleMs: 1000 });
    const { core } = kubeApis(cluster());
    const r = raw();
    const victim = spawnConsumer({ ...base, consumer: 'victim' });
    // Its start compiles the agent under tsx: on a loaded two-core machine that alone took over 30 s.
    await eventually('the victim started', () => Promise.resolve(victim.lines.some((l) => l.started === true)), 90_000);
    // The group is created at `$` and may come after the informer synced: an entry added before it is never read.
    await eventually('the consumer group', async () => (await r.xinfo('GROUPS', base.redis.stream)) as unknown[]);
    const id = await r.xadd(base.redis.stream, '*', 'type', 'scale_up', 'pod_count', '3', 'task_id', 'crash');
    // The victim is a child process: under the full suite on two cores its first pass can take over 30 s.
    const before = await eventually(
      'the first pod created',
      async () => {
        const pods = await taskPods(core, namespace);
        return pods.length >= 1 ? pods : undefined;
      },
      90_000,
    );
    victim.child.kill('SIGKILL');
    await victim.exited;
    const pending = (await r.xpending(base.redis.stream, 'autoscaler', '-', '+', 10)) as [string, string][];
    expect(pending.map(([entry, consumer]) => [entry, consumer])).toEqual([[id, 'victim']]);

    const survivor = await start({ ...base, consumer: 'survivor' });
    await eventually(
      'the entry claimed and acknowledged',
      async () => (await r.xpending(base.redis.stream, 'autoscaler'))[0] === 0,
    );
    const pods = await taskPods(core, namespace);
    expect(pods.map((p) => p.metadata?.name)).toEqual([0, 1, 2].map((i) => taskPodName('crash', i)));
    for (const p of before)
      expect(pods.find((q) => q.metadata?.name === p.metadata?.name)?.metadata?.uid).toBe(p.metadata?.uid);
    expect(pods.every((p) => p.metadata?.annotations?.['pgdeck.io/entry-id'] === id)).toBe(true);
    expect(await r.xlen(base.redis.deadLetterStream)).toBe(0);
    expect(survivor.reader.events(0).events.some((e) => e.message.startsWith('claimed 1 idle entry'))).toBe(true);
    r.disconnect();
  }, 240_000);

  it('Redis restarted mid-stream: the consumer reconnects and no event is lost', async () => {
    const namespace = await cluster().namespace('as-restart');
    const config = configFor(cluster(), redis(), namespace);
    const agent = await start(config);
    const { core } = kubeApis(cluster());
    const r = raw();
    await eventually('the consumer group', async () => (await r.xinfo('GROUPS', config.redis.stream)) as unknown[]);
    for (let i = 0; i < 10; i++)
      await r.xadd(config.redis.stream, '*', 'type', 'scale_up', 'pod_count', '1', 'task_id', `r${i}`);
    await redis().restart(async () => {
      await eventually('the agent sees Redis down', () => Promise.resolve(!agent.deps.redis.state().connected));
    });
    await eventually('the agent reconnected', () => Promise.resolve(agent.deps.redis.state().reader.connected));
    const r2 = raw();
    for (let i = 10; i < 20; i++)
      await r2.xadd(config.redis.stream, '*', 'type', 'scale_up', 'pod_count', '1', 'task_id', `r${i}`);
    const pods = await eventually('20 tasks with one pod each', async () => {
      const list = await taskPods(core, namespace);
      return list.length === 20 ? list : undefined;
    });
    expect(new Set(pods.map((p) => p.metadata?.labels?.['pgdeck.io/task-id'])).size).toBe(20);
    await eventually('nothing pending', async () => (await r2.xpending(config.redis.stream, 'autoscaler'))[0] === 0);
    r.disconnect();
    r2.disconnect();
  });

  it('scales a StatefulSet target through its scale subresource within min and max', async () => {
    const namespace = await cluster().namespace('as-sts');
    const { apps } = kubeApis(cluster());
    const labels = { app: 'citus-worker' };
    await apps.createNamespacedStatefulSet({
      namespace,
      body: {
        metadata: { name: 'citus-workers' },
        spec: {
          replicas: 1,
          serviceName: 'citus-workers',
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: { containers: [{ name: 'pg', image: 'citusdata/citus:13.2' }] } },
        },
      },
    });
    const config = configFor(cluster(), redis(), namespace, {
      targets: { workers: { kind: 'StatefulSet', name: 'citus-workers', min: 1, max: 3, cooldownSeconds: 0 } },
    });
    const agent = await start(config);
    const r = raw();
    await eventually('the consumer group', async () => (await r.xinfo('GROUPS', config.redis.stream)) as unknown[]);
    const replicas = async (): Promise<number | undefined> =>
      (await apps.readNamespacedStatefulSet({ namespace, name: 'citus-workers' })).spec?.replicas;
    await r.xadd(config.redis.stream, '*', 'type', 'scale_up', 'pod_count', '5', 'task_id', 'w', 'target', 'workers');
    await eventually('scaled up to max 3', async () => (await replicas()) === 3);
    await r.xadd(
      config.redis.stream,
      '*',
      'type',
      'scale_down',
      'pod_count',
      '10',
      'task_id',
      'w',
      'target',
      'workers',
    );
    await eventually('scaled down to min 1', async () => (await replicas()) === 1);
    await eventually('nothing pending', async () => (await r.xpending(config.redis.stream, 'autoscaler'))[0] === 0);
    const state = await eventually('the target published', () => {
      const t = agent.store.getSnapshot().state?.targets[0];
      return Promise.resolve(t?.replicas === 1 ? t : undefined);
    });
    expect(state).toMatchObject({ name: 'workers', kind: 'StatefulSet', min: 1, max: 3 });
    r.disconnect();
  });

  it('a restarted consumer respects the cooldown of the scale made before the restart (kept in Redis beside the stream)', async () => {
    const namespace = await cluster().namespace('as-cool');
    const { apps } = kubeApis(cluster());
    const labels = { app: 'cool-worker' };
    await apps.createNamespacedStatefulSet({
      namespace,
      body: {
        metadata: { name: 'cool-workers' },
        spec: {
          replicas: 1,
          serviceName: 'cool-workers',
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: { containers: [{ name: 'pg', image: 'citusdata/citus:13.2' }] } },
        },
      },
    });
    const config = configFor(cluster(), redis(), namespace, {
      targets: { workers: { kind: 'StatefulSet', name: 'cool-workers', min: 1, max: 5, cooldownSeconds: 600 } },
    });
    const r = raw();
    const sts = () => apps.readNamespacedStatefulSet({ namespace, name: 'cool-workers' });
    const first = await start(config);
    await eventually('the consumer group', async () => (await r.xinfo('GROUPS', config.redis.stream)) as unknown[]);
    const up = await r.xadd(
      config.redis.stream,
      '*',
      'type',
      'scale_up',
      'pod_count',
      '2',
      'task_id',
      'w',
      'target',
      'workers',
    );
    await eventually('scaled up to 3', async () => (await sts()).spec?.replicas === 3);
    await eventually('acknowledged', async () => (await r.xpending(config.redis.stream, 'autoscaler'))[0] === 0);
    await first.close();
    const spec = config.targets.workers!;
    const recorded = parseLastScale((await r.hget(lastScaleKey(config), lastScaleField(config, spec))) ?? undefined);
    expect(recorded).toMatchObject({ entryId: up, replicas: 3 });

    const second = await start(config);
    const down = await r.xadd(
      config.redis.stream,
      '*',
      'type',
      'scale_down',
      'pod_count',
      '1',
      'task_id',
      'w',
      'target',
      'workers',
    );
    const ignored = await eventually('the scale_down handled', () =>
      Promise.resolve(second.reader.events(0).events.find((e) => e.message.startsWith(`entry ${down}:`))),
    );
    expect(ignored.message).toMatch(/workers: scale_down ignored, cooling down for \d+ s more$/);
    await eventually('acknowledged', async () => (await r.xpending(config.redis.stream, 'autoscaler'))[0] === 0);
    expect((await sts()).spec?.replicas).toBe(3);
    r.disconnect();
  });

  it('at the in-flight limit it stops reading instead of failing events, and resumes when pods finish', async () => {
    const namespace = await cluster().namespace('as-limit');
    const config = configFor(cluster(), redis(), namespace, {
      maxPodsInFlight: 2,
      podCountLimit: 2,
      retentionSeconds: 0,
    });
    const agent = await start(config);
    const { core } = kubeApis(cluster());
    const r = raw();
    await eventually('the consumer group', async () => (await r.xinfo('GROUPS', config.redis.stream)) as unknown[]);
    await r.xadd(config.redis.stream, '*', 'type', 'scale_up', 'pod_count', '2', 'task_id', 'a');
    await r.xadd(config.redis.stream, '*', 'type', 'scale_up', 'pod_count', '2', 'task_id', 'b');
    const held = await eventually('backpressure reported', () =>
      Promise.resolve(agent.reader.events(0).events.find((e) => e.message.startsWith('backpressure:'))),
    );
    expect(held.message).toContain('2 pods in flight, 2 more for task b would pass the limit of 2');
    // Entries run in parallel lanes: b can be held before a's creates and acknowledgement have completed.
    await eventually('a acknowledged', async () => (await r.xpending(config.redis.stream, 'autoscaler'))[0] === 1);
    const pods = await taskPods(core, namespace);
    expect(pods.map((p) => p.metadata?.labels?.['pgdeck.io/task-id'])).toEqual(['a', 'a']);
    expect(await r.xlen(config.redis.deadLetterStream)).toBe(0);
    await eventually('a running', async () =>
      (await taskPods(core, namespace)).every((p) => p.status?.phase === 'Running'),
    );
    for (const p of pods) await completePod(core, namespace, p.metadata!.name!, 'Succeeded');
    const after = await eventually("b's pods created", async () => {
      const list = (await taskPods(core, namespace)).filter((p) => p.metadata?.labels?.['pgdeck.io/task-id'] === 'b');
      return list.length === 2 ? list : undefined;
    });
    expect(after.map((p) => p.metadata?.name)).toEqual([taskPodName('b', 0), taskPodName('b', 1)]);
    await eventually('nothing pending', async () => (await r.xpending(config.redis.stream, 'autoscaler'))[0] === 0);
    r.disconnect();
  });
});
