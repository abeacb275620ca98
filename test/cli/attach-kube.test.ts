import { CoreV1Api } from '@kubernetes/client-node';
import { spawnSync } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgdeckError } from '../../src/agents/kernel/errors.js';
import type { AgentHandle } from '../../src/agents/kernel/snapshot.js';
import { attachKubeAgents } from '../../src/cli/attach-kube.js';
import { createTokenSecret, localAddress, registerAgentService } from '../helpers/kube-agent-service.js';
import { withKube } from '../helpers/kube.js';
import { serveCounter, TOKEN, type ServedCounter } from '../helpers/served-counter.js';
import { waitFor } from '../helpers/wait-for.js';
import type { CounterState } from '../fixtures/counter-agent.js';

const cluster = withKube({ nodes: 1 });
let agent: ServedCounter;
let namespace: string;
/** An agent Service whose Endpoints name a Pod at a port nothing listens on: no route reaches it. */
let brokenNamespace: string;
let closedPort: number;
const handles: AgentHandle[] = [];

beforeAll(async () => {
  const address = localAddress();
  agent = await serveCounter({ target: 3 }, { token: TOKEN, host: address });
  namespace = await cluster().namespace('attach');
  await registerAgentService(cluster(), namespace, {
    name: 'pgdeck-counter',
    component: 'counter',
    ip: address,
    port: agent.server.port,
  });
  // labelled, but no `api` port: not an agent
  const labels = { 'app.kubernetes.io/part-of': 'pgdeck', 'app.kubernetes.io/component': 'counter' };
  await cluster()
    .kubeConfig.makeApiClient(CoreV1Api)
    .createNamespacedService({
      namespace,
      body: { metadata: { name: 'pgdeck-metrics', labels }, spec: { ports: [{ name: 'metrics', port: 9090 }] } },
    });
  await createTokenSecret(cluster(), namespace, TOKEN);
  brokenNamespace = await cluster().namespace('attach-broken');
  closedPort = await freeClosedPort(address);
  await registerAgentService(cluster(), brokenNamespace, {
    name: 'pgdeck-broken',
    component: 'broken',
    ip: address,
    port: closedPort,
  });
  await createTokenSecret(cluster(), brokenNamespace, TOKEN);
}, 180_000);

/** A port on `host` that was free a moment ago and that nothing listens on now. */
async function freeClosedPort(host: string): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

afterAll(async () => {
  await Promise.all(handles.map((h) => h.close()));
  await agent?.close();
});

describe('pgdeck attach --kube', () => {
  it("finds the agent's Service by label and mirrors its state through the API server's service proxy", async () => {
    const found = await attachKubeAgents({ kubeconfig: cluster().plane.kubeconfigPath, namespace });
    handles.push(...found);
    expect(found).toHaveLength(1);
    const [handle] = found as unknown as [AgentHandle<CounterState>];
    await waitFor(() => handle.reader.getSnapshot().state?.count === 3, 'the counter state through the proxy', 30_000);
    expect(handle.name).toBe('counter');
    expect(handle.reader.getSnapshot().source).toMatchObject({
      connected: true,
      stale: false,
      via: `service proxy ${namespace}/pgdeck-counter:api`,
    });
  });

  it('sends actions with the token from the Secret, and the change streams back', async () => {
    const [handle] = handles as [AgentHandle<CounterState>];
    const result = await handle.control.invoke('bump', { by: 2 }, { who: 'test', via: 'test' });
    expect(result).toMatchObject({ ok: true, fields: { target: 5 } });
    await waitFor(() => handle.reader.getSnapshot().state?.count === 5, 'count 5 through the proxy', 30_000);
    expect(agent.agent.deps.target).toBe(5);
  });

  it('a wrong token is refused by the agent behind the proxy', async () => {
    const [handle] = await attachKubeAgents({
      kubeconfig: cluster().plane.kubeconfigPath,
      namespace,
      token: 'not-the-token-0123456789',
    });
    handles.push(handle!);
    await waitFor(() => handle!.reader.getSnapshot().source.lastError !== undefined, 'an error on the stream', 30_000);
    expect(handle!.reader.getSnapshot().source.lastError).toMatch(/unauthorized|401/i);
    expect(handle!.reader.getSnapshot().state).toBeUndefined();
    await expect(handle!.control.invoke('bump', { by: 1 }, { who: 'test', via: 'test' })).rejects.toThrow(
      /wrong bearer token/,
    );
    expect(agent.agent.deps.target).toBe(5);
  });

  it('goes through the service proxy when the agent answers there', () => {
    expect(handles[0]).toMatchObject({ route: 'service-proxy' });
  });

  // The test control plane runs no kubelet (kwok nodes), so no port-forward can reach a Pod here:
  // this checks the fallback is taken and what it says when it fails, against the real API server.
  it('falls back to a port-forward when the proxy cannot reach the agent, and names why both failed', async () => {
    const attempt = attachKubeAgents({ kubeconfig: cluster().plane.kubeconfigPath, namespace: brokenNamespace });
    const error = await attempt.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PgdeckError);
    expect((error as PgdeckError).kind).toBe('unavailable');
    expect((error as PgdeckError).message).toMatch(
      new RegExp(
        `^attach --kube: no agent reachable: service pgdeck-broken: the service proxy: 50\\d: .*${closedPort}.*; ` +
          `port-forward to pod pgdeck-broken-0:${closedPort}: .+$`,
      ),
    );
  });

  it('a namespace without agents exits 2 with one line', () => {
    const result = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'src/main.ts', 'attach', '--kube', '-n', 'kube-public'],
      { encoding: 'utf8', env: { ...process.env, KUBECONFIG: cluster().plane.kubeconfigPath }, timeout: 60_000 },
    );
    expect(result.stderr.trimEnd().split('\n')).toEqual([
      'pgdeck: attach --kube: no Service labelled app.kubernetes.io/part-of=pgdeck with a port named api in namespace kube-public (context admin)',
    ]);
    expect(result.status).toBe(2);
  });
});
