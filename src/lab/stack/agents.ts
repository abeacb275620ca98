import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemon, waitUntil, type Daemon } from '../procs/daemon.js';
import type { CitusCluster } from '../procs/citus.js';
import { freePort } from '../procs/ports.js';
import type { RedisServer } from '../procs/redis.js';
import { createServiceDir, type ServiceDir } from '../procs/service-dir.js';
import { ADDRESS_ANNOTATION, WORKER_NAMESPACE, WORKER_SELECTOR, WORKER_SET } from './citus-pods.js';

/** The agents that run against the lab's Kubernetes control plane, in the order they start. */
export const KUBE_AGENTS = ['patroni-operator', 'autoscaler', 'citus-sync'] as const;
export type KubeAgentName = (typeof KUBE_AGENTS)[number];

/** The autoscaler's target that grows and shrinks the Citus worker StatefulSet. */
export const WORKER_TARGET = WORKER_SET;
export const LAB_STREAM = 'otto:scale:events';

export interface LabAgent {
  readonly name: KubeAgentName;
  readonly url: string;
  readonly logFile: string;
  readonly daemon: Daemon;
}

export interface LabAgents {
  readonly agents: readonly LabAgent[];
  stop(): Promise<void>;
}

export interface LabAgentsSpec {
  /** `node dist/main.js`: how a pgdeck daemon is run. */
  readonly command: readonly string[];
  readonly kubeconfig: string;
  readonly token: string;
  readonly redis: RedisServer;
  /** The Citus topology (citus-sync runs only with one). */
  readonly citus: CitusCluster | undefined;
  /** The API port of each agent, picked when the lab started so the console could attach at once. */
  readonly ports: Readonly<Record<KubeAgentName, number>>;
}

/** Each agent's section of its config file: the lab's addresses, nothing else. */
function sectionOf(name: KubeAgentName, spec: LabAgentsSpec): Record<string, unknown> | undefined {
  switch (name) {
    case 'patroni-operator':
      return { kubeconfig: spec.kubeconfig, namespace: WORKER_NAMESPACE, instance: 'lab' };
    case 'autoscaler':
      return {
        redis: { host: '127.0.0.1', port: spec.redis.port, stream: LAB_STREAM },
        consumer: 'lab',
        namespace: WORKER_NAMESPACE,
        kubeconfig: spec.kubeconfig,
        agentImage: 'ghcr.io/pgdeck/pgdeck:lab',
        blockMs: 1000,
        targets:
          spec.citus === undefined
            ? {}
            : { [WORKER_TARGET]: { kind: 'StatefulSet', name: WORKER_SET, min: 0, max: 8, cooldownSeconds: 0 } },
      };
    case 'citus-sync': {
      if (spec.citus === undefined) return undefined;
      const c = spec.citus.coordinator;
      return {
        host: `${c.host}:${c.port}`,
        coordinatorHost: c.host,
        namespace: WORKER_NAMESPACE,
        labelSelector: WORKER_SELECTOR,
        addressing: 'annotation',
        addressAnnotation: ADDRESS_ANNOTATION,
        policy: 'drain',
        scanIntervalSeconds: 10,
        kubeconfig: spec.kubeconfig,
        replica: 'lab',
      };
    }
  }
}

/**
 * The operator, the autoscaler and citus-sync as `pgdeck --agent NAME` daemons on loopback (as the
 * failover daemons run), configured from the lab's state; resolves once each answers /health.
 */
export async function startLabAgents(spec: LabAgentsSpec): Promise<LabAgents> {
  const dir = createServiceDir('agents');
  const agents: LabAgent[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(agents.splice(0).map((a) => a.daemon.stop(5000)));
    dir.remove();
  };
  try {
    for (const name of KUBE_AGENTS) {
      const section = sectionOf(name, spec);
      if (section !== undefined) agents.push(await startOne(dir, name, section, spec));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { agents, stop };
}

async function startOne(
  dir: ServiceDir,
  name: KubeAgentName,
  section: Record<string, unknown>,
  spec: LabAgentsSpec,
): Promise<LabAgent> {
  const configFile = join(dir.path, `${name}.json`);
  writeFileSync(configFile, JSON.stringify({ agents: { [name]: section } }), { mode: 0o600 });
  const env = { ...process.env, PGDECK_TOKEN: spec.token, KUBECONFIG: spec.kubeconfig, NODE_ENV: 'production' };
  for (let attempt = 1; ; attempt++) {
    // the picked port may have been taken meanwhile (minutes pass while the control plane builds)
    const port = attempt === 1 ? spec.ports[name] : await freePort();
    const url = `http://127.0.0.1:${port}`;
    const args = [
      ...spec.command.slice(1),
      ...['--agent', name, '--listen', `127.0.0.1:${port}`, '--config', configFile, '--log-level', 'info'],
    ];
    const daemon = startDaemon({ name, command: spec.command[0]!, args, dir, env });
    try {
      await waitUntil(
        `${name} daemon`,
        async () => (await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) })).status === 200,
        60_000,
        { logFile: daemon.logFile, processes: [{ name, daemon }], intervalMs: 100 },
      );
      return { name, url, logFile: daemon.logFile, daemon };
    } catch (error) {
      await daemon.stop(1000);
      if (attempt === 2) throw error;
    }
  }
}
