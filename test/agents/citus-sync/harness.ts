import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { connectKube, type KubeClient } from '../../../src/agents/adapters/kube.js';
import { citusSyncConfigSchema } from '../../../src/agents/citus-sync/config.js';
import { citusSyncAgent } from '../../../src/agents/citus-sync/index.js';
import type { CitusSyncConfig, CitusSyncState } from '../../../src/agents/citus-sync/types.js';
import { startAgent, type RunningAgent } from '../../../src/agents/kernel/runtime.js';
import type { CitusMode, CitusNode } from '../../../src/lab/procs/citus.js';
import { nodeRow, resetMembership, withCitus, type CitusTestCluster, type NodeRow } from '../../helpers/citus.js';
import { WORKER_SELECTOR, WorkerPods } from '../../helpers/citus-pods.js';
import { eventually, type KubeTestCluster } from '../../helpers/kube.js';

export const TIMINGS = { leaseDurationSeconds: 3, renewDeadlineMs: 2000, retryPeriodMs: 500 };

export type Agent = RunningAgent<CitusSyncConfig, unknown, CitusSyncState>;

/** A citus-sync replica in its own process (test/fixtures/citus-sync-replica.ts), so a test can kill it with -9. */
export interface ChildReplica {
  readonly child: ChildProcess;
  /** Its JSON lines: `{started}`, `{leading, holder}` per leadership change, `{kind, message}` per journal event. */
  readonly lines: readonly Record<string, unknown>[];
  readonly exited: Promise<number | null>;
}

export interface CitusSyncHarness {
  readonly t: () => CitusTestCluster;
  readonly pods: () => WorkerPods;
  readonly namespace: () => string;
  /** An in-process agent on this test's namespace (closed after the test). */
  start(settings?: Partial<Record<string, unknown>>, replica?: string): Promise<Agent>;
  /** A replica in a child process, with the same config as `start` (killed after the test). */
  spawnReplica(settings?: Partial<Record<string, unknown>>, replica?: string): ChildReplica;
  addPod(name: string, w: CitusNode): Promise<void>;
  row(w: Pick<CitusNode, 'host' | 'port'>): Promise<NodeRow | undefined>;
  /** Every worker row (groupid <> 0), `host:port` -> row. */
  workerRows(): Promise<Map<string, NodeRow>>;
}

export const addressOf = (w: Pick<CitusNode, 'host' | 'port'>): string => `${w.host}:${w.port}`;

/**
 * One Citus cluster (`mode`, `workers` workers) per file on the file's control plane, a fresh namespace
 * and an empty pg_dist_node per test, and the agents of a test closed (or killed) after it.
 */
export function citusSyncHarness(
  kube: () => KubeTestCluster,
  options: { mode: CitusMode; workers: number },
): CitusSyncHarness {
  const lab = withCitus(options);
  let client: KubeClient;
  let namespace = '';
  let pods: WorkerPods | undefined;
  const running: Agent[] = [];
  const children: ChildProcess[] = [];
  beforeAll(() => {
    client = connectKube({ source: { kind: 'kubeconfig-text', yaml: kube().plane.kubeconfigYaml } });
  });
  afterAll(async () => {
    await client.close();
  });
  beforeEach(async () => {
    await resetMembership(lab().coordinator, ['items']);
    namespace = await kube().namespace('citus');
    pods = new WorkerPods(kube(), namespace);
  });
  afterEach(async () => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
    await Promise.all(running.splice(0).map((a) => a.close()));
  });
  const configOf = (settings: Partial<Record<string, unknown>>, replica: string): CitusSyncConfig =>
    citusSyncConfigSchema.parse({
      host: addressOf(lab().cluster.coordinator),
      namespace,
      labelSelector: WORKER_SELECTOR,
      addressing: 'annotation',
      scanIntervalSeconds: 1,
      kubeconfig: kube().plane.kubeconfigPath,
      replica,
      ...settings,
    });
  const row = (w: Pick<CitusNode, 'host' | 'port'>) => nodeRow(lab().coordinator, w);
  return {
    t: lab,
    pods: () => pods!,
    namespace: () => namespace,
    start: async (settings = {}, replica = 'r1') => {
      const agent = (await startAgent(citusSyncAgent, configOf(settings, replica), {
        leaderElector: client.leaderElectorFactory({ namespace, timings: TIMINGS }),
        loop: { resyncMs: 1000 },
      })) as Agent;
      running.push(agent);
      return agent;
    },
    spawnReplica: (settings = {}, replica = 'child') => {
      const config = JSON.stringify(configOf(settings, replica));
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', 'test/fixtures/citus-sync-replica.ts', config, JSON.stringify(TIMINGS)],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      children.push(child);
      const lines: Record<string, unknown>[] = [];
      createInterface({ input: child.stdout! }).on('line', (line) =>
        lines.push(JSON.parse(line) as Record<string, unknown>),
      );
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      return { child, lines, exited };
    },
    addPod: async (name, w) => {
      await pods!.create(name, addressOf(w));
      await pods!.setReady(name, true);
    },
    row,
    workerRows: async () => {
      const res = await lab().coordinator.query<NodeRow>(
        `SELECT nodeid, groupid, nodename, nodeport, isactive, noderole::text AS noderole, hasmetadata, metadatasynced,
           shouldhaveshards FROM pg_dist_node WHERE groupid <> 0 ORDER BY nodeid`,
      );
      return new Map(res.rows.map((r) => [`${r.nodename}:${r.nodeport}`, r]));
    },
  };
}

/** Waits for `check`; a timeout names what each given agent's keys and journal said last. */
export async function until<T>(
  agents: readonly Agent[],
  what: string,
  check: () => Promise<T | false | undefined>,
  timeoutMs?: number,
): Promise<T> {
  try {
    return await eventually(what, check, timeoutMs);
  } catch (error) {
    const keys = agents.flatMap((a) => a.store.getSnapshot().reconciles?.keys ?? []);
    const events = agents.flatMap((a) =>
      a.store.journal
        .since(0, 5000)
        .events.filter((e) => e.severity !== 'debug')
        .slice(-12)
        .map((e) => `${e.kind}: ${e.message}`),
    );
    const said = keys.map((k) => `${k.key} ${k.phase}: ${k.summary}`).join(' | ');
    throw new Error(`${String(error)}; keys: ${said}; events: ${events.join(' | ')}`, { cause: error });
  }
}
