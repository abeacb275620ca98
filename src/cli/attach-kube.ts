import { connectKube, KUBE_RESOURCES, type KubeClient, type KubeObject } from '../agents/adapters/kube.js';
import { errorMessage, PgdeckError } from '../agents/kernel/errors.js';
import type { AgentHandle } from '../agents/kernel/snapshot.js';
import { attachAgent } from '../agents/wire/attach.js';
import { headers, paths } from '../agents/wire/protocol.js';
import {
  chooseRoute,
  confirmPortForward,
  describeRoute,
  type AttachRoute,
  type RouteProbe,
  type ServicePod,
} from './attach-kube-route.js';

/** The contract with manifests/: every pgdeck object is labelled so, each agent's Service has a port `api`. */
export const PART_OF_SELECTOR = 'app.kubernetes.io/part-of=pgdeck';
export const COMPONENT_LABEL = 'app.kubernetes.io/component';
export const API_PORT_NAME = 'api';
export const TOKEN_SECRET = { name: 'pgdeck-api-token', key: 'token' } as const;
const PROBE_TIMEOUT_MS = 5_000;

export interface AttachKubeOptions {
  readonly context?: string;
  readonly namespace?: string;
  /** $KUBECONFIG or ~/.kube/config when undefined. */
  readonly kubeconfig?: string;
  /** Overrides the token read from the Secret. */
  readonly token?: string;
}

export interface KubeAgentService {
  readonly service: string;
  /** The agent's name (its component label). */
  readonly component: string;
}

/**
 * An attached agent, and how it is reached (`unreachable`: through the proxy, retrying, not live);
 * its source shows the route (`service proxy ns/svc:api`), not the local relay's URL.
 */
export interface KubeAttachedAgent extends AgentHandle {
  readonly route: AttachRoute['kind'];
}

interface ServiceObject extends KubeObject {
  readonly spec?: { readonly ports?: readonly { readonly name?: string }[] };
}

/** The agents' Services in `namespace`: labelled part of pgdeck, with a port named `api`. */
export async function discoverAgentServices(kube: KubeClient, namespace: string): Promise<KubeAgentService[]> {
  const services = await kube
    .objects('pgdeck')
    .list<ServiceObject>(KUBE_RESOURCES.services, namespace, PART_OF_SELECTOR);
  return services
    .filter((s) => (s.spec?.ports ?? []).some((p) => p.name === API_PORT_NAME))
    .map((s) => ({ service: s.metadata?.name ?? '', component: s.metadata?.labels?.[COMPONENT_LABEL] ?? '' }))
    .sort((a, b) => a.service.localeCompare(b.service));
}

/** The agents' API token from the Secret `pgdeck-api-token` (key `token`); never logged or shown. */
export async function readAgentToken(kube: KubeClient, namespace: string): Promise<string> {
  const secret = await kube.objects('pgdeck').get<KubeObject & { readonly data?: Record<string, string> }>({
    resource: KUBE_RESOURCES.secrets,
    namespace,
    name: TOKEN_SECRET.name,
  });
  const encoded = secret?.data?.[TOKEN_SECRET.key];
  if (encoded === undefined)
    throw new PgdeckError(
      'not-found',
      `attach --kube: no Secret ${TOKEN_SECRET.name} with key ${TOKEN_SECRET.key} in namespace ${namespace}: deploy pgdeck there, or set PGDECK_TOKEN`,
    );
  return Buffer.from(encoded, 'base64').toString('utf8').trim();
}

/**
 * `pgdeck attach --kube`: every agent Service in the namespace, attached through the API server's
 * service proxy with the token from the Secret, or through a port-forward to a Pod behind it when the
 * agent does not answer through the proxy (`chooseRoute`). The handles are `attachAgent`'s, so the
 * console cannot tell them from agents attached by URL; closing one closes its relay too. A Service
 * no route reaches is attached through the proxy all the same (the console shows it not live, with
 * the proxy's reason, and keeps retrying); when no Service is reachable at all, it fails with why.
 */
export async function attachKubeAgents(options: AttachKubeOptions): Promise<KubeAttachedAgent[]> {
  const kube = connectKube({
    source: {
      kind: options.kubeconfig === undefined ? 'auto' : 'kubeconfig',
      ...(options.kubeconfig === undefined ? {} : { path: options.kubeconfig }),
      ...(options.context === undefined ? {} : { context: options.context }),
    },
  });
  try {
    const namespace = options.namespace ?? kube.namespace;
    const services = await discoverAgentServices(kube, namespace);
    if (services.length === 0)
      throw new PgdeckError(
        'not-found',
        `attach --kube: no Service labelled ${PART_OF_SELECTOR} with a port named ${API_PORT_NAME} in namespace ${namespace} (context ${kube.context})`,
      );
    const token = options.token ?? (await readAgentToken(kube, namespace));
    const routed = await Promise.all(services.map(({ service }) => openRoute(kube, namespace, service)));
    const reasons = routed.flatMap((r) => (r.route.kind === 'unreachable' ? [r.route.reason] : []));
    if (reasons.length === routed.length) {
      await Promise.all(routed.map((r) => r.relay.close()));
      throw new PgdeckError('unavailable', `attach --kube: no agent reachable: ${reasons.join('; ')}`);
    }
    return routed.map(({ relay, route }, i) => {
      const via = describeRoute(namespace, services[i]!.service, route);
      const handle = attachAgent(relay.url, { token, via });
      return {
        get name() {
          return handle.name;
        },
        route: route.kind,
        reader: handle.reader,
        control: handle.control,
        logs: handle.logs,
        close: async () => {
          await handle.close();
          await relay.close();
        },
      };
    });
  } finally {
    await kube.close();
  }
}

interface Relay {
  readonly url: string;
  close(): Promise<void>;
}

/** The service proxy, probed; if the agent does not answer there, a port-forward, probed (see chooseRoute). */
async function openRoute(
  kube: KubeClient,
  namespace: string,
  service: string,
): Promise<{ relay: Relay; route: AttachRoute }> {
  const proxy = await kube.serviceProxy(
    { namespace, service, port: API_PORT_NAME },
    { authorizationHeader: headers.proxiedAuthorization },
  );
  const route = chooseRoute(service, await probeAgent(proxy.url), await servicePods(kube, namespace, service));
  if (route.kind !== 'port-forward') return { relay: proxy, route };
  const forward = await kube.portForward({ namespace, pod: route.pod, port: route.port });
  const confirmed = confirmPortForward(service, route, await probeAgent(forward.url, forward.lastError));
  if (confirmed.kind === 'unreachable') {
    await forward.close();
    return { relay: proxy, route: confirmed };
  }
  await proxy.close();
  return { relay: forward, route: confirmed };
}

/** `GET /health` through a relay: the agent answers with its wire protocol in the body, whatever its status. */
export async function probeAgent(url: string, why?: () => string | undefined): Promise<RouteProbe> {
  try {
    const res = await fetch(`${url}${paths.health}`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    const text = await res.text();
    const body = parseJson(text) as { protocol?: unknown; message?: unknown; error?: { message?: unknown } } | null;
    if (typeof body?.protocol === 'number') return { kind: 'agent' };
    const message = body?.error?.message ?? body?.message ?? (text.trim().slice(0, 200) || res.statusText);
    return { kind: 'refused', status: res.status, message: String(message) };
  } catch (error) {
    return { kind: 'no-answer', message: why?.() ?? errorMessage(error) };
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

interface EndpointsObject extends KubeObject {
  readonly subsets?: readonly {
    readonly addresses?: readonly { readonly targetRef?: { readonly kind?: string; readonly name?: string } }[];
    readonly ports?: readonly { readonly name?: string; readonly port?: number }[];
  }[];
}

/** The ready Pods behind a Service (its Endpoints), with the port named `api`. */
async function servicePods(kube: KubeClient, namespace: string, service: string): Promise<ServicePod[]> {
  const endpoints = await kube
    .objects('pgdeck')
    .get<EndpointsObject>({ resource: KUBE_RESOURCES.endpoints, namespace, name: service });
  return (endpoints?.subsets ?? []).flatMap((subset) => {
    const port = subset.ports?.find((p) => p.name === API_PORT_NAME)?.port;
    if (port === undefined) return [];
    return (subset.addresses ?? []).flatMap((a) =>
      a.targetRef?.kind === 'Pod' && a.targetRef.name !== undefined ? [{ pod: a.targetRef.name, port }] : [],
    );
  });
}
