import { connectKube, KUBE_RESOURCES, type KubeClient, type KubeObject } from '../agents/adapters/kube.js';
import { PgdeckError } from '../agents/kernel/errors.js';
import type { AgentHandle } from '../agents/kernel/snapshot.js';
import { attachAgent } from '../agents/wire/attach.js';
import { headers } from '../agents/wire/protocol.js';

/** The contract with manifests/: every pgdeck object is labelled so, each agent's Service has a port `api`. */
export const PART_OF_SELECTOR = 'app.kubernetes.io/part-of=pgdeck';
export const COMPONENT_LABEL = 'app.kubernetes.io/component';
export const API_PORT_NAME = 'api';
export const TOKEN_SECRET = { name: 'pgdeck-api-token', key: 'token' } as const;

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
 * service proxy with the token from the Secret. The handles are `attachAgent`'s, so the console
 * cannot tell them from agents attached by URL; closing one closes its relay too.
 */
export async function attachKubeAgents(options: AttachKubeOptions): Promise<AgentHandle[]> {
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
    return await Promise.all(
      services.map(async ({ service }) => {
        const proxy = await kube.serviceProxy(
          { namespace, service, port: API_PORT_NAME },
          { authorizationHeader: headers.proxiedAuthorization },
        );
        const handle = attachAgent(proxy.url, { token });
        return {
          get name() {
            return handle.name;
          },
          reader: handle.reader,
          control: handle.control,
          logs: handle.logs,
          close: async () => {
            await handle.close();
            await proxy.close();
          },
        };
      }),
    );
  } finally {
    await kube.close();
  }
}
