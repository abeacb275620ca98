import { jsonLineSink } from '../agents/adapters/json-log.js';
import type { KubeClient } from '../agents/adapters/kube.js';
import { createPromMetrics } from '../agents/adapters/prom-metrics.js';
import type { AnyAgentDefinition } from '../agents/kernel/agent.js';
import { startAgent } from '../agents/kernel/runtime.js';
import { serveAgent, type AgentServer } from '../agents/wire/serve.js';
import { PgdeckError } from '../agents/kernel/errors.js';
import type { LoadedConfig } from '../config.js';

export interface HeadlessIo {
  /** Where SIGTERM and SIGINT arrive (the process, or an emitter in tests). */
  readonly signals: NodeJS.EventEmitter;
}

/** `pgdeck --agent NAME`: one agent, JSON logs on stdout, the HTTP API; SIGTERM/SIGINT stop it cleanly. */
export async function runHeadless(
  definition: AnyAgentDefinition,
  config: LoadedConfig,
  io: HeadlessIo,
): Promise<number> {
  const level = config.global.logLevel;
  const sink = jsonLineSink(level);
  const metrics = createPromMetrics();
  const kube = await leaseClient(definition, config);
  const [host, portText] = splitHostPort(config.global.listen);
  let server: AgentServer | undefined;
  // The API listens before the first pass: a peer that probes it the moment this agent leads finds it up (not ready yet).
  const agent = await startAgent(definition, config.agents[definition.name], {
    metrics,
    logSink: sink,
    ...(kube === undefined
      ? {}
      : { leaderElector: kube.leaderElectorFactory({ namespace: config.global.kube.namespace }) }),
    beforeRun: async ({ store, control, deps }) => {
      server = await serveAgent(
        {
          name: definition.name,
          reader: store,
          control,
          metricsText: metrics.metricsText,
          routes: definition.routes?.(deps, () => store.getSnapshot()) ?? [],
          logSources: definition.logSources?.(deps) ?? {},
        },
        { host, port: Number(portText), ...(config.token === undefined ? {} : { token: config.token }) },
      );
    },
  }).catch(async (error: unknown) => {
    await kube?.close();
    throw error;
  });
  if (server === undefined) throw new PgdeckError('internal', 'the agent started without serving its API');
  sink('info', `serving ${definition.name} on ${server.url}`, { agent: definition.name, url: server.url });
  if (config.token === undefined)
    sink('warn', 'no API token: /state, /events and actions answer 401; set PGDECK_TOKEN or --token-file', {
      agent: definition.name,
    });
  await new Promise<void>((resolve) => {
    io.signals.once('SIGTERM', resolve);
    io.signals.once('SIGINT', resolve);
  });
  sink('info', 'stopping', { agent: definition.name });
  await server.close();
  await agent.close();
  await kube?.close();
  return 0;
}

/**
 * The Kubernetes client an agent's `kube-lease` leader gate campaigns through (kubeconfig context, else
 * in-cluster); loaded only then, so an agent without it never loads the Kubernetes client library.
 */
async function leaseClient(definition: AnyAgentDefinition, config: LoadedConfig): Promise<KubeClient | undefined> {
  if (definition.leaderElection !== 'kube-lease') return undefined;
  const { connectKube } = await import('../agents/adapters/kube.js');
  const context = config.global.kube.context;
  return connectKube({ source: context === undefined ? { kind: 'auto' } : { kind: 'auto', context } });
}

export function splitHostPort(listen: string): [string, string] {
  const at = listen.lastIndexOf(':');
  return [listen.slice(0, at).replace(/^\[|\]$/g, ''), listen.slice(at + 1)];
}
