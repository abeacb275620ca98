import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { PgdeckError } from '../../agents/kernel/errors.js';
import { parseChaosAction, runChaos } from './chaos.js';
import {
  buildControlPlane,
  kubeReady,
  publishCitus,
  publishEtcd,
  publishFailover,
  publishHaproxy,
  publishKube,
  publishRedis,
  startLabCitus,
  startLabEtcd,
  startLabFailover,
  startLabHaproxy,
  startLabKube,
  startLabRedis,
  type Published,
} from './components.js';
import { serveControl } from './control.js';
import type { KubeAgentName } from './agents.js';
import { labAgentNames, startKubeParts } from './kube-parts.js';
import { createBridge, type NetnsBridge } from '../procs/netns.js';
import { freePort } from '../procs/ports.js';
import type { LabOptions } from './options.js';
import { stopStack, type Stack } from './stack.js';
import {
  SAMPLE_COMPONENT,
  SOCKET_FILE,
  STATE_FILE,
  writeLabState,
  type ComponentPhase,
  type ComponentState,
  type LabState,
} from './state.js';

/**
 * The process that owns a lab: it starts the components (the ones that need no build first, the
 * Kubernetes parts when their binaries exist), keeps the state file current, answers the control
 * socket (state, chaos, stop) and stops everything on SIGTERM or `lab down`.
 */
export async function runSupervisor(options: LabOptions): Promise<number> {
  const stack: Stack = { frozen: new Set(), partitioned: new Set() };
  const abort = new AbortController();
  const names = ['etcd', 'failover', 'haproxy', 'redis', ...(options.citusWorkers > 0 ? ['citus'] : []), 'kube'];
  const agentNames = labAgentNames(options);
  const agentPorts = Object.fromEntries(
    await Promise.all(agentNames.map(async (name) => [name, await freePort()] as const)),
  ) as Record<KubeAgentName, number>;
  let state: LabState = {
    version: 1,
    dir: options.dir,
    pid: process.pid,
    startedAt: new Date().toISOString(),
    token: '',
    netns: options.netns,
    components: [
      ...names.map((name) => component(name, 'pending', '')),
      ...agentNames.map((name) => ({
        ...component(name, 'pending', 'joins with the control plane'),
        endpoints: { url: `http://127.0.0.1:${agentPorts[name]}` },
      })),
      component(SAMPLE_COMPONENT, 'pending', 'applied once the operator runs'),
    ],
  };
  const set = (name: string, phase: ComponentPhase, detail: string, published?: Published): void => {
    state = {
      ...state,
      components: state.components.map((c) =>
        c.name === name
          ? { ...component(name, phase, detail), ...(published ?? {}), detail: published?.detail ?? detail }
          : c,
      ),
    };
    writeLabState(state);
  };
  writeLabState(state);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      abort.abort();
      await stopStack(stack);
      // A failed start keeps its state file, so `lab up` can say what failed.
      if (!state.components.some((c) => c.phase === 'failed')) rmSync(join(options.dir, STATE_FILE), { force: true });
    })();
    return stopping;
  };
  const server = await serveControl(options.dir, {
    'GET /state': () => Promise.resolve({ status: 200, body: state }),
    'POST /chaos': async (body) => {
      const action = parseChaosAction(body.action);
      const node = typeof body.node === 'string' && body.node !== '' ? body.node : undefined;
      return { status: 200, body: await runChaos(stack, action, node) };
    },
    'POST /stop': () => {
      setImmediate(shutdown);
      return Promise.resolve({ status: 202, body: { stopping: true } });
    },
  });
  const closed = new Promise<void>((resolve) => server.once('close', resolve));
  function shutdown(): void {
    void stop().then(() => {
      server.close();
      server.closeAllConnections();
      rmSync(join(options.dir, SOCKET_FILE), { force: true });
    });
  }
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.once(sig, shutdown);

  const step = async <T>(name: string, start: () => Promise<T>, publish: (part: T) => Published): Promise<T> => {
    set(name, 'starting', '');
    try {
      const part = await start();
      set(name, 'ready', '', publish(part));
      return part;
    } catch (error) {
      set(name, 'failed', error instanceof Error ? error.message.split('\n')[0]! : String(error));
      throw error;
    }
  };
  try {
    await Promise.all([
      (async () => {
        if (options.netns) stack.network = labNetwork(options.nodes, set);
        const network = stack.network;
        stack.etcd = await step('etcd', () => startLabEtcd(options, network), publishEtcd);
        const etcd = stack.etcd;
        stack.failover = await step(
          'failover',
          () => startLabFailover(etcd, options, network),
          (c) => publishFailover(c, options, network),
        );
        state = { ...state, token: stack.failover.token };
        const cluster = stack.failover;
        stack.haproxy = await step('haproxy', () => startLabHaproxy(cluster), publishHaproxy);
      })(),
      (async () => {
        stack.redis = await step('redis', startLabRedis, publishRedis);
      })(),
      ...(options.citusWorkers > 0
        ? [
            (async () => {
              stack.citus = await step('citus', () => startLabCitus(options.citusWorkers), publishCitus);
            })(),
          ]
        : []),
    ]);
  } catch {
    shutdown();
    await closed;
    return 1;
  }
  void startKube(options, stack, set, abort.signal).then(() =>
    stack.kube === undefined || abort.signal.aborted
      ? undefined
      : startKubeParts(options, stack, agentPorts, set, abort.signal),
  );
  await closed;
  return 0;
}

/** The bridge and namespaces of `--netns`; when they cannot be made, the failover cluster failed with the reason. */
function labNetwork(nodes: number, set: (name: string, phase: ComponentPhase, detail: string) => void): NetnsBridge {
  try {
    return createBridge(nodes);
  } catch (error) {
    const why = error instanceof Error ? error.message.split('\n')[0]! : String(error);
    set('failover', 'failed', `--netns: the network namespaces could not be made: ${why}`);
    throw error;
  }
}

function component(name: string, phase: ComponentPhase, detail: string): ComponentState {
  return { name, phase, detail, endpoints: {}, logs: {}, since: new Date().toISOString() };
}

/** The Kubernetes parts join when their binaries exist; on a cold machine they are built in the background first. */
async function startKube(
  options: LabOptions,
  stack: Stack,
  set: (name: string, phase: ComponentPhase, detail: string, published?: Published) => void,
  signal: AbortSignal,
): Promise<void> {
  if (options.kube === 'off') {
    for (const name of [...labAgentNames(options), SAMPLE_COMPONENT]) set(name, 'skipped', 'off (--no-kube)');
    return set('kube', 'skipped', 'off (--no-kube)');
  }
  try {
    if (!kubeReady()) {
      set('kube', 'building', 'building the control plane (scripts/control-plane/build)');
      await buildControlPlane((line) => set('kube', 'building', line.slice(0, 200)), signal);
    }
    set('kube', 'starting', '');
    stack.kube = await startLabKube(signal);
    set('kube', 'ready', '', publishKube(stack.kube));
  } catch (error) {
    if (signal.aborted) return;
    for (const name of [...labAgentNames(options), SAMPLE_COMPONENT])
      set(name, 'failed', 'the control plane did not start');
    set('kube', 'failed', error instanceof PgdeckError ? error.message.split('\n')[0]! : String(error));
  }
}
