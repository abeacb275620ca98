import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CoordinationV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { microTime } from '../../src/agents/adapters/kube-lease.js';
import { startCitus, type CitusCluster } from '../../src/lab/procs/citus.js';
import type { KubeControlPlane } from '../../src/lab/procs/kube-control-plane.js';
import { BENCH_SELECTOR, BenchPods } from './citus-bench-pods.js';

export const NAMESPACE = 'console-kube';
export const TOKEN = 'console-kube-bench-token-0123456789';

export interface ConsoleKubeWorld {
  readonly pods: BenchPods;
  readonly core: CoreV1Api;
  /** The headless citus-sync daemon the console attaches to. */
  readonly daemonUrl: string;
  readonly daemonPid: number;
  close(): Promise<void>;
}

/** `count` worker pods on kwok nodes, each with an address annotation (nothing listens there). */
async function createPods(pods: BenchPods, core: CoreV1Api, count: number): Promise<void> {
  const names = Array.from({ length: count }, (_, i) => workerName(i));
  for (let at = 0; at < names.length; at += 25)
    await Promise.all(
      names.slice(at, at + 25).map((name, j) => pods.create(name, `10.77.${(at + j) >> 8}.${(at + j) & 255}:5432`)),
    );
  for (const deadline = Date.now() + 300_000; ;) {
    const list = await core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: BENCH_SELECTOR });
    const ready = list.items.filter((p) =>
      p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    );
    if (ready.length >= count) return;
    if (Date.now() > deadline) throw new Error(`bench console-kube: ${ready.length}/${count} pods Ready after 300 s`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export const workerName = (i: number): string => `w${String(i + 1).padStart(4, '0')}`;

/**
 * The world both consoles watch: `count` Ready pods on kwok nodes, a stand-in Citus coordinator, and
 * the headless citus-sync daemon over them. A Lease held by another holder keeps the daemon a follower:
 * it watches and publishes, and never registers anything (the console's read-only counterpart of
 * `k9s --readonly`).
 */
export async function startWorld(plane: KubeControlPlane, count: number, root: string): Promise<ConsoleKubeWorld> {
  const config = new KubeConfig();
  config.loadFromString(plane.kubeconfigYaml);
  const core = config.makeApiClient(CoreV1Api);
  const pods = new BenchPods(plane.kubeconfigYaml, NAMESPACE);
  await pods.namespaceReady();
  await config.makeApiClient(CoordinationV1Api).createNamespacedLease({
    namespace: NAMESPACE,
    body: {
      metadata: { name: 'pgdeck-citus-sync' },
      spec: {
        holderIdentity: 'bench-observer',
        leaseDurationSeconds: 86_400,
        // MicroTime: the API server wants six fractional digits, the client's Date gives three
        acquireTime: microTime(Date.now()) as unknown as Date,
        renewTime: microTime(Date.now()) as unknown as Date,
      },
    },
  });
  await createPods(pods, core, count);
  let citus: CitusCluster | undefined;
  let daemon: ChildProcess | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'pgdeck-console-kube-'));
  const close = async (): Promise<void> => {
    if (daemon !== undefined && daemon.exitCode === null) {
      const exited = once(daemon, 'exit');
      daemon.kill('SIGTERM');
      await exited;
    }
    await citus?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    citus = await startCitus({ mode: 'standin', workers: 0 });
    const { coordinator } = citus;
    const file = join(dir, 'config.yaml');
    writeFileSync(
      file,
      stringify({
        listen: '127.0.0.1:0',
        kube: { namespace: NAMESPACE },
        agents: {
          'citus-sync': {
            host: `${coordinator.host}:${coordinator.port}`,
            namespace: NAMESPACE,
            labelSelector: BENCH_SELECTOR,
            addressing: 'annotation',
            kubeconfig: plane.kubeconfigPath,
            replica: 'bench',
          },
        },
      }),
    );
    const env = { ...process.env, PGDECK_TOKEN: TOKEN, KUBECONFIG: plane.kubeconfigPath, NODE_ENV: 'production' };
    const child = spawn(process.execPath, ['dist/main.js', '--agent', 'citus-sync', '--config', file], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    daemon = child;
    const daemonUrl = await new Promise<string>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`bench console-kube: the daemon exited ${code}`)));
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const entry = JSON.parse(line) as { msg?: string; url?: string };
        if (entry.msg?.startsWith('serving citus-sync on ') === true && entry.url !== undefined) resolve(entry.url);
      });
    });
    return { pods, core, daemonUrl, daemonPid: child.pid!, close };
  } catch (error) {
    await close();
    throw error;
  }
}
