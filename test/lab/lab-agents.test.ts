import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectKube, KUBE_RESOURCES, type KubeObject } from '../../src/agents/adapters/kube.js';
import { attachAgent } from '../../src/agents/wire/attach.js';
import { isAlive } from '../../src/lab/procs/service-dir.js';
import type { ChaosReport } from '../../src/lab/stack/chaos.js';
import type { LabState } from '../../src/lab/stack/state.js';
import type { LoadReport } from '../../src/lab/workload/load.js';
import type { OperatorState } from '../../src/agents/patroni-operator/types.js';
import { until } from '../helpers/failover.js';

const main = join(process.cwd(), 'dist', 'main.js');
const dir = join(mkdtempSync(join(tmpdir(), 'pgdeck-labagents-')), 'lab');
const AGENTS = ['patroni-operator', 'autoscaler', 'citus-sync'];

async function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string }> {
  const child = spawn(process.execPath, [main, ...args], { env: { ...process.env, CI: 'true', ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  expect(stderr).toBe('');
  return { code, stdout };
}

const lab = (args: string[]): Promise<{ code: number | null; stdout: string }> => run(['lab', ...args, '--dir', dir]);

async function status(): Promise<LabState> {
  return JSON.parse((await lab(['status', '-o', 'json'])).stdout) as LabState;
}

const component = (state: LabState, name: string) => state.components.find((c) => c.name === name);

async function env(): Promise<Record<string, string>> {
  const out = (await lab(['env'])).stdout;
  return Object.fromEntries([...out.matchAll(/^export (\w+)='([^']*)'$/gm)].map((m) => [m[1]!, m[2]!] as const));
}

async function query(url: string, sql: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows as Record<string, unknown>[];
  } finally {
    await client.end();
  }
}

const workerPorts = async (url: string): Promise<number[]> =>
  (await query(url, 'SELECT nodeport FROM pg_dist_node WHERE groupid <> 0 AND isactive ORDER BY nodeport')).map((r) =>
    Number(r.nodeport),
  );

const portOpen = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

const ownedDirs = (pid: number): string[] =>
  readdirSync(tmpdir())
    .filter((n) => n.startsWith('pgdeck-svc-'))
    .filter((n) => {
      try {
        return Number(readFileSync(join(tmpdir(), n, 'owner.pid'), 'utf8')) === pid;
      } catch {
        return false;
      }
    });

beforeAll(async () => {
  const up = await lab(['up', '--nodes', '2', '--citus-workers', '1', '--etcd', '3', '--synchronous', '-o', 'json']);
  expect(up.code).toBe(0);
}, 240_000);

afterAll(async () => {
  await lab(['down']);
}, 120_000);

describe('pgdeck lab with its agents and three etcd members', () => {
  it('restart-etcd restarts the leader of three members: quorum kept, no failover, no lost write', async () => {
    const state = await status();
    const etcd = component(state, 'etcd')!;
    expect(etcd.detail).toBe('3 members');
    const members = etcd.endpoints.url!.split(',');
    expect(members).toHaveLength(3);
    const r = await lab(['chaos', 'restart-etcd', '-o', 'json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as ChaosReport;
    expect(report.detail).toMatch(/^etcd member lab[0-2] \(the leader\) of 3 stopped and started on its data/);
    expect(report.failover).toBeNull();
    expect(report.writesLost).toBe(0);
    expect(report.healedMs).not.toBeNull();
    const health = await Promise.all(
      members.map(async (m) => ((await (await fetch(`${m}/health`)).json()) as { health: string }).health),
    );
    expect(health).toEqual(['true', 'true', 'true']);
  }, 120_000);

  it('runs the three agents once the control plane is up; a scale event on the stream ends in pg_dist_node and back', async () => {
    let stateNow = await status();
    await until(
      'the agents ready',
      async () => {
        stateNow = await status();
        return AGENTS.every((a) => component(stateNow, a)?.phase === 'ready');
      },
      300_000,
      1000,
    );
    const vars = await env();
    for (const a of AGENTS) expect(vars.PGDECK_ATTACH!.split(' ')).toContain(component(stateNow, a)!.endpoints.url);
    const citus = vars.PGDECK_CITUS_URL!;
    const before = await workerPorts(citus);
    expect(before).toHaveLength(1);

    const sync = attachAgent<{ workers: { key: string; pod: string | null; isactive: boolean | null }[] }>(
      component(stateNow, 'citus-sync')!.endpoints.url!,
      { token: stateNow.token },
    );
    const kube = connectKube({ source: { kind: 'kubeconfig', path: vars.KUBECONFIG! } });
    try {
      const redis = { REDIS_HOST: vars.REDIS_HOST!, REDIS_PORT: vars.REDIS_PORT! };
      const send = (type: string, task: string) =>
        run(
          ['autoscaler', 'send', '--type', type, '--pod-count', '1', '--task-id', task, '--target', 'citus-worker'],
          redis,
        );
      expect((await send('scale_up', 'grow')).code).toBe(0);
      await until('a second worker in pg_dist_node', async () => (await workerPorts(citus)).length === 2, 60_000, 200);
      const added = (await workerPorts(citus)).find((p) => !before.includes(p))!;
      const pod = await kube.objects('test').get<KubeObject>({
        resource: KUBE_RESOURCES.pods,
        namespace: 'default',
        name: 'citus-worker-1',
      });
      expect(pod?.metadata?.annotations?.['pgdeck.io/citus-address']).toBe(`127.0.0.1:${added}`);
      expect((pod?.status as { phase?: string }).phase).toBe('Running');
      const behind = await query(
        `postgresql://postgres@127.0.0.1:${added}/postgres`,
        "SELECT current_setting('cluster_name') AS name",
      );
      expect(behind).toEqual([{ name: 'worker2' }]);
      await until(
        'citus-sync, as the console attaches to it, shows both workers active',
        async () => sync.reader.getSnapshot().state?.workers.filter((w) => w.isactive === true).length === 2,
        30_000,
        200,
      );
      expect(
        sync.reader
          .getSnapshot()
          .state?.workers.map((w) => w.pod)
          .sort(),
      ).toEqual(['citus-worker-0', 'citus-worker-1']);

      expect((await send('scale_down', 'shrink')).code).toBe(0);
      await until('the worker drained out', async () => (await workerPorts(citus)).length === 1, 60_000, 200);
      expect(await workerPorts(citus)).toEqual(before);
      await until(
        'its pod gone and its server stopped',
        async () =>
          (await kube
            .objects('test')
            .get({ resource: KUBE_RESOURCES.pods, namespace: 'default', name: 'citus-worker-1' })) === undefined &&
          !(await portOpen(added)),
        60_000,
        200,
      );
    } finally {
      await sync.close();
      await kube.close();
    }
  }, 420_000);

  it('applies the sample PostgresCluster once the operator runs: Running in lab status and in the operator view', async () => {
    let stateNow = await status();
    await until(
      'the sample component ready',
      async () => {
        stateNow = await status();
        expect(component(stateNow, 'sample')?.phase).not.toBe('failed');
        return component(stateNow, 'sample')?.phase === 'ready';
      },
      240_000,
      1000,
    );
    expect(component(stateNow, 'sample')!.detail).toMatch(/^PostgresCluster default\/sample: Running, 3 of 3 ready/);
    const vars = await env();
    const kube = connectKube({ source: { kind: 'kubeconfig', path: vars.KUBECONFIG! } });
    const operator = attachAgent<OperatorState>(component(stateNow, 'patroni-operator')!.endpoints.url!, {
      token: stateNow.token,
    });
    try {
      const cluster = await kube.objects('test').get<KubeObject>({
        resource: {
          group: 'pgdeck.io',
          version: 'v1alpha1',
          plural: 'postgresclusters',
          kind: 'PostgresCluster',
          namespaced: true,
        },
        namespace: 'default',
        name: 'sample',
      });
      expect((cluster?.spec as { replicas: number }).replicas).toBe(3);
      expect(cluster?.status).toMatchObject({ phase: 'Running', readyReplicas: 3, primaryPod: 'sample-0' });
      await until(
        "the operator's own view lists the sample Running",
        async () =>
          operator.reader.getSnapshot().state?.clusters.some((c) => c.name === 'sample' && c.phase === 'Running') ===
          true,
        30_000,
        200,
      );
      const row = operator.reader.getSnapshot().state!.clusters.find((c) => c.name === 'sample')!;
      expect(row).toMatchObject({ namespace: 'default', replicas: 3, readyReplicas: 3, primaryPod: 'sample-0' });
      expect(row.members.map((m) => `${m.name}:${m.role}:${m.ready}`).sort()).toEqual([
        'sample-0:master:true',
        'sample-1:replica:true',
        'sample-2:replica:true',
      ]);
    } finally {
      await operator.close();
      await kube.close();
    }
  }, 300_000);

  it('lab load puts a scale_up on the stream as it starts and a scale_down as it ends; the autoscaler acts on both', async () => {
    const vars = await env();
    const citus = vars.PGDECK_CITUS_URL!;
    const before = await workerPorts(citus);
    expect(before).toHaveLength(1);
    let most = before.length;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        most = Math.max(most, (await workerPorts(citus)).length);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    const r = await lab(['load', '--seconds', '12', '-o', 'json']).finally(() => (watching = false));
    await watcher;
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as LoadReport;
    expect(report.scaleSkipped).toBeNull();
    expect(report.acked).toBeGreaterThan(0);
    expect(report.failed).toBe(0);
    expect(report.scale.map((s) => [s.type, s.podCount, s.replicasBefore, s.replicasAfter])).toEqual([
      ['scale_up', 1, 1, 2],
      ['scale_down', 1, 2, 1],
    ]);
    for (const s of report.scale) expect(s.actedMs).not.toBeNull();
    // the events are on the autoscaler's stream as `lab load` said
    const redis = new Redis({ host: vars.REDIS_HOST!, port: Number(vars.REDIS_PORT!), lazyConnect: true });
    try {
      await redis.connect();
      for (const s of report.scale) {
        const entries = await redis.xrange('otto:scale:events', s.entryId, s.entryId);
        expect(entries).toHaveLength(1);
        const fields = entries[0]![1];
        const map = Object.fromEntries(fields.flatMap((_, i) => (i % 2 === 0 ? [[fields[i], fields[i + 1]]] : [])));
        expect(map).toMatchObject({ type: s.type, task_id: s.taskId, target: 'citus-worker', pod_count: '1' });
      }
    } finally {
      redis.disconnect();
    }
    // the whole loop ran: the scale_up put a second worker into pg_dist_node, the scale_down drained it out
    expect(most).toBe(2);
    await until('the worker drained out again', async () => (await workerPorts(citus)).length === 1, 60_000, 200);
    const kube = connectKube({ source: { kind: 'kubeconfig', path: vars.KUBECONFIG! } });
    try {
      const set = await kube.objects('test').get<KubeObject>({
        resource: KUBE_RESOURCES.statefulSets,
        namespace: 'default',
        name: 'citus-worker',
      });
      expect((set?.spec as { replicas: number }).replicas).toBe(1);
    } finally {
      await kube.close();
    }
  }, 180_000);

  it('down stops the agents and every worker behind a pod, leaving nothing', async () => {
    const state = await status();
    const ports = state.components.flatMap((c) =>
      Object.values(c.endpoints).flatMap((v) =>
        v.split(',').flatMap((u) => (/^[a-z]+:\/\//.test(u) ? [Number(new URL(u).port)] : [])),
      ),
    );
    expect(ports.length).toBeGreaterThan(10);
    const down = await lab(['down']);
    expect(down.code).toBe(0);
    expect(isAlive(state.pid)).toBe(false);
    expect(ownedDirs(state.pid)).toEqual([]);
    expect(await Promise.all(ports.map(portOpen))).toEqual(ports.map(() => false));
    expect(existsSync(dir)).toBe(false);
  }, 120_000);
});
