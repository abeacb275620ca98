import { CoreV1Api } from '@kubernetes/client-node';
import { KUBE_RESOURCES } from '../../src/agents/adapters/kube.js';
import { spawnSync } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgdeckError } from '../../src/agents/kernel/errors.js';
import type { AgentHandle } from '../../src/agents/kernel/snapshot.js';
import { attachKubeAgents } from '../../src/cli/attach-kube.js';
import { adminKube, withKube } from '../helpers/kube.js';
import { serveCounter, TOKEN, type ServedCounter } from '../helpers/served-counter.js';
import { waitFor } from '../helpers/wait-for.js';
import type { CounterState } from '../fixtures/counter-agent.js';

/**
 * Endpoints refuse loopback addresses, and the API server proxies to no loopback address: the agent
 * listens on this machine's own non-loopback address, behind a selector-less Service with Endpoints.
 */
function localAddress(): string {
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  throw new Error('no non-loopback IPv4 address on this machine');
}

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
  const core = cluster().kubeConfig.makeApiClient(CoreV1Api);
  const labels = { 'app.kubernetes.io/part-of': 'pgdeck', 'app.kubernetes.io/component': 'counter' };
  await core.createNamespacedService({
    namespace,
    body: { metadata: { name: 'pgdeck-counter', labels }, spec: { ports: [{ name: 'api', port: 8008 }] } },
  });
  // the service proxy only follows an address whose targetRef is a Pod with that IP: a Pod no
  // scheduler takes, with the agent's address as its status
  const pod = await core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name: 'pgdeck-counter-0', labels },
      spec: { schedulerName: 'nobody', containers: [{ name: 'agent', image: 'pgdeck:test' }] },
    },
  });
  const admin = adminKube(cluster());
  await admin
    .objects('test')
    .patchStatus(
      KUBE_RESOURCES.pods,
      namespace,
      'pgdeck-counter-0',
      { podIP: address, podIPs: [{ ip: address }] },
      { resourceVersion: pod.metadata?.resourceVersion ?? '' },
    );
  await admin.close();
  await core.createNamespacedEndpoints({
    namespace,
    body: {
      metadata: { name: 'pgdeck-counter', labels },
      subsets: [
        {
          addresses: [{ ip: address, targetRef: { kind: 'Pod', namespace, name: 'pgdeck-counter-0' } }],
          ports: [{ name: 'api', port: agent.server.port }],
        },
      ],
    },
  });
  // labelled, but no `api` port: not an agent
  await core.createNamespacedService({
    namespace,
    body: { metadata: { name: 'pgdeck-metrics', labels }, spec: { ports: [{ name: 'metrics', port: 9090 }] } },
  });
  await core.createNamespacedSecret({
    namespace,
    body: { metadata: { name: 'pgdeck-api-token' }, stringData: { token: TOKEN } },
  });
  brokenNamespace = await cluster().namespace('attach-broken');
  closedPort = await freeClosedPort(address);
  await registerAgent(core, brokenNamespace, 'pgdeck-broken', address, closedPort);
  await core.createNamespacedSecret({
    namespace: brokenNamespace,
    body: { metadata: { name: 'pgdeck-api-token' }, stringData: { token: TOKEN } },
  });
}, 180_000);

/** A port on `host` that was free a moment ago and that nothing listens on now. */
async function freeClosedPort(host: string): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A labelled Service with port `api`, a Pod no scheduler takes whose status IP is `ip`, and Endpoints to ip:port. */
async function registerAgent(core: CoreV1Api, ns: string, name: string, ip: string, port: number): Promise<void> {
  const labels = { 'app.kubernetes.io/part-of': 'pgdeck', 'app.kubernetes.io/component': 'broken' };
  await core.createNamespacedService({
    namespace: ns,
    body: { metadata: { name, labels }, spec: { ports: [{ name: 'api', port: 8008 }] } },
  });
  const pod = await core.createNamespacedPod({
    namespace: ns,
    body: {
      metadata: { name: `${name}-0`, labels },
      spec: { schedulerName: 'nobody', containers: [{ name: 'agent', image: 'pgdeck:test' }] },
    },
  });
  const admin = adminKube(cluster());
  await admin
    .objects('test')
    .patchStatus(
      KUBE_RESOURCES.pods,
      ns,
      `${name}-0`,
      { podIP: ip, podIPs: [{ ip }] },
      { resourceVersion: pod.metadata?.resourceVersion ?? '' },
    );
  await admin.close();
  await core.createNamespacedEndpoints({
    namespace: ns,
    body: {
      metadata: { name, labels },
      subsets: [
        {
          addresses: [{ ip, targetRef: { kind: 'Pod', namespace: ns, name: `${name}-0` } }],
          ports: [{ name: 'api', port }],
        },
      ],
    },
  });
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
    expect(handle.reader.getSnapshot().source).toMatchObject({ connected: true, stale: false });
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
