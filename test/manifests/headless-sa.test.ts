import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { AgentSnapshot } from '../../src/agents/kernel/snapshot.js';
import type { AutoscalerState } from '../../src/agents/autoscaler/types.js';
import { taskPods } from '../agents/autoscaler/harness.js';
import { eventually, withKube } from '../helpers/kube.js';
import { applyLabOverlay, LAB_NAMESPACE as NS, ROOT, type ManifestObject } from '../helpers/manifests.js';
import { withRedis } from '../helpers/services.js';

const cluster = withKube({ nodes: 2 });
const redis = withRedis();
const TOKEN = 'lab-token-made-at-runtime-0123456789';
const STREAM = `otto:scale:events:${process.pid}`;
const dir = mkdtempSync(join(tmpdir(), 'pgdeck-headless-sa-'));
let objects: ManifestObject[] = [];
let child: ChildProcess | undefined;
let url = '';

beforeAll(async () => {
  objects = await applyLabOverlay(cluster(), TOKEN);
}, 180_000);
afterAll(async () => {
  if (child !== undefined && child.exitCode === null) {
    child.kill('SIGKILL');
    await once(child, 'exit');
  }
  rmSync(dir, { recursive: true, force: true });
});

/** The lab overlay's autoscaler config file, pointed at the test's Redis and at a ServiceAccount kubeconfig. */
function configFile(kubeconfig: string): string {
  const configMap = objects.find(
    (o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('pgdeck-autoscaler-config'),
  );
  const config = parse((configMap?.data as Record<string, string>)['config.yaml']!) as {
    listen: string;
    agents: { autoscaler: Record<string, unknown> & { redis: Record<string, unknown> } };
  };
  const section = config.agents.autoscaler;
  config.listen = '127.0.0.1:0';
  section.redis = { ...section.redis, host: redis().host, port: redis().port, stream: STREAM };
  Object.assign(section, { kubeconfig, namespace: NS, consumer: 'pgdeck-autoscaler-test', blockMs: 500 });
  const file = join(dir, 'config.yaml');
  writeFileSync(file, stringify(config));
  return file;
}

describe('the headless autoscaler with a ServiceAccount kubeconfig minted by the control plane', () => {
  it('scales its target and starts task pods under the lab overlay ServiceAccount, and `pgdeck status` shows it', async () => {
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, await cluster().plane.mintServiceAccountKubeconfig(NS, 'pgdeck-autoscaler'));
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, TOKEN);
    const env = { ...process.env, PGDECK_TOKEN_FILE: tokenFile, KUBECONFIG: '', NODE_ENV: 'production' };
    const started = spawn(
      process.execPath,
      ['dist/main.js', '--agent', 'autoscaler', '--config', configFile(kubeconfig)],
      {
        cwd: ROOT,
        env,
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    child = started;
    const lines = createInterface({ input: started.stdout! });
    const logs: Record<string, unknown>[] = [];
    lines.on('line', (line) => logs.push(JSON.parse(line) as Record<string, unknown>));
    url = await eventually('the agent serving', async () => {
      const serving = logs.find((l) => String(l.msg).startsWith('serving autoscaler on '));
      return serving === undefined ? undefined : String(serving.url);
    });

    const r = new Redis({ host: redis().host, port: redis().port });
    try {
      await eventually('the consumer group', async () => (await r.xinfo('GROUPS', STREAM)) as unknown[]);
      await r.xadd(STREAM, '*', 'type', 'scale_up', 'pod_count', '3', 'task_id', 'grow', 'target', 'citus-worker');
      await r.xadd(STREAM, '*', 'type', 'scale_up', 'pod_count', '2', 'task_id', 'task-sa');
      const apps = cluster().kubeConfig.makeApiClient(AppsV1Api);
      await eventually('citus-worker scaled 2 -> 5', async () => {
        const s = await apps.readNamespacedStatefulSet({ namespace: NS, name: 'citus-worker' });
        return s.spec?.replicas === 5;
      });
      const core = cluster().kubeConfig.makeApiClient(CoreV1Api);
      const pods = await eventually('two task pods', async () => {
        const found = await taskPods(core, NS);
        return found.length === 2 && found;
      });
      expect(pods.map((p) => p.metadata?.labels?.['pgdeck.io/task-id'])).toEqual(['task-sa', 'task-sa']);
      await eventually('every entry acknowledged', async () => (await r.xpending(STREAM, 'autoscaler'))[0] === 0);
    } finally {
      r.disconnect();
    }

    const { stdout } = await promisify(execFile)(process.execPath, ['dist/main.js', 'status', url, '-o', 'json'], {
      cwd: ROOT,
      env,
    });
    const [snapshot] = JSON.parse(stdout) as AgentSnapshot<AutoscalerState>[];
    expect(snapshot?.agent).toBe('autoscaler');
    expect(snapshot?.health.ready).toBe(true);
    expect(snapshot?.state?.targets.find((t) => t.name === 'citus-worker')?.replicas).toBe(5);
    expect(snapshot?.state?.tasks.map((t) => t.taskId)).toEqual(['task-sa']);
    const table = await promisify(execFile)(process.execPath, ['dist/main.js', 'status', url], { cwd: ROOT, env });
    expect(table.stdout).toMatch(/^autoscaler\s+http:\/\/127\.0\.0\.1:\d+\s+\S+\s+yes\s/m);
    expect(logs.filter((l) => /forbidden/.test(JSON.stringify(l)))).toEqual([]);

    started.kill('SIGTERM');
    const [code] = (await once(started, 'exit')) as [number | null];
    expect(code).toBe(0);
  }, 180_000);
});
