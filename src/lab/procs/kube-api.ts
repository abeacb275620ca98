import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { stringify } from 'yaml';
import { PgdeckError } from '../../agents/kernel/errors.js';
import type { KeyPair } from './kube-certs.js';

export interface KubeResponse {
  readonly status: number;
  readonly body: unknown;
}

/**
 * The few raw API calls the launcher itself makes (readiness, Node objects, TokenRequest), over
 * node:https with a client certificate; everything else talks to the cluster through a kubeconfig
 * (only src/agents/adapters may use a Kubernetes client library).
 */
export interface KubeApi {
  readonly server: string;
  call(method: 'GET' | 'POST', path: string, body?: unknown, timeoutMs?: number): Promise<KubeResponse>;
}

export function kubeApi(server: string, caFile: string, client: KeyPair): KubeApi {
  const ca = readFileSync(caFile);
  const cert = readFileSync(client.cert);
  const key = readFileSync(client.key);
  return {
    server,
    call: (method, path, body, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        const payload = body === undefined ? undefined : JSON.stringify(body);
        const req = request(
          new URL(path, server),
          {
            method,
            ca,
            cert,
            key,
            timeout: timeoutMs,
            headers: {
              accept: 'application/json',
              ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('error', reject);
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              let parsed: unknown = text;
              try {
                parsed = JSON.parse(text);
              } catch {
                // plain-text answers (/readyz) stay strings
              }
              resolve({ status: res.statusCode ?? 0, body: parsed });
            });
          },
        );
        req.on('timeout', () => req.destroy(new PgdeckError('timeout', `${method} ${path} took over ${timeoutMs} ms`)));
        req.on('error', reject);
        req.end(payload);
      }),
  };
}

/** Throws unless the answer is 2xx, with the API server's own message. */
function expectOk(response: KubeResponse, what: string): unknown {
  if (response.status >= 200 && response.status < 300) return response.body;
  const message = (response.body as { message?: string } | undefined)?.message ?? JSON.stringify(response.body);
  const kind =
    response.status === 403 || response.status === 401
      ? 'unauthorized'
      : response.status === 409
        ? 'conflict'
        : 'unavailable';
  throw new PgdeckError(kind, `${what}: HTTP ${response.status}: ${message}`);
}

export type KubeconfigUser = { readonly clientCert: string; readonly clientKey: string } | { readonly token: string };

/** A one-context kubeconfig with inline credentials (certificate files are read and embedded). */
export function kubeconfigYaml(server: string, caFile: string, name: string, user: KubeconfigUser): string {
  const b64 = (file: string): string => readFileSync(file).toString('base64');
  const credentials =
    'token' in user
      ? { token: user.token }
      : { 'client-certificate-data': b64(user.clientCert), 'client-key-data': b64(user.clientKey) };
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'pgdeck-lab', cluster: { server, 'certificate-authority-data': b64(caFile) } }],
    users: [{ name, user: credentials }],
    contexts: [{ name, context: { cluster: 'pgdeck-lab', user: name } }],
    'current-context': name,
  });
}

/** A Node object kwok manages (it carries kwok's annotation); kwok fills in its status. */
export async function createFakeNode(api: KubeApi, name: string, annotation: string): Promise<void> {
  const node = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { [annotation]: 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: {
        type: 'kwok',
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
      },
    },
  };
  expectOk(await api.call('POST', '/api/v1/nodes', node), `creating node ${name}`);
}

export async function countReadyNodes(api: KubeApi): Promise<number> {
  const response = await api.call('GET', '/api/v1/nodes');
  if (response.status !== 200) return 0;
  const items =
    (response.body as { items?: { status?: { conditions?: { type: string; status: string }[] } }[] }).items ?? [];
  return items.filter((node) => node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
}

export async function countItems(api: KubeApi, listPath: string): Promise<number> {
  const response = await api.call('GET', listPath);
  return response.status === 200 ? ((response.body as { items?: unknown[] }).items ?? []).length : 0;
}

/** A kubeconfig with a bound token from the TokenRequest API for an existing ServiceAccount. */
export async function mintServiceAccountKubeconfig(
  api: KubeApi,
  caFile: string,
  namespace: string,
  serviceAccount: string,
  expirationSeconds: number,
): Promise<string> {
  const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/serviceaccounts/${encodeURIComponent(serviceAccount)}/token`;
  const body = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds } };
  const answer = expectOk(await api.call('POST', path, body), `TokenRequest for ${namespace}/${serviceAccount}`) as {
    status?: { token?: string };
  };
  const token = answer.status?.token;
  if (token === undefined)
    throw new PgdeckError('internal', `TokenRequest for ${namespace}/${serviceAccount} returned no token`);
  return kubeconfigYaml(api.server, caFile, `${namespace}-${serviceAccount}`, { token });
}
