import type { KubeConfig } from '@kubernetes/client-node';
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import { errorMessage, PgdeckError } from '../kernel/errors.js';

/** A Service port reached through the API server: `/api/v1/namespaces/NS/services/NAME:PORT/proxy/...`. */
export interface ServiceProxyTarget {
  readonly namespace: string;
  readonly service: string;
  /** The port's name (or number). */
  readonly port: string;
}

export interface ServiceProxyOptions {
  /**
   * The API server takes `Authorization` for its own authentication and drops it; a caller's
   * `Authorization` header is sent on under this name instead, for the service behind the proxy.
   */
  readonly authorizationHeader: string;
}

/** A loopback URL whose requests reach the Service, authenticated as the kubeconfig's user. */
export interface ServiceProxy {
  readonly url: string;
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
]);

/**
 * A local relay (127.0.0.1, a free port) to the API server's service proxy: requests and streamed
 * answers (SSE) pass through as they are, with the kubeconfig's credentials added per request.
 */
export async function openServiceProxy(
  config: KubeConfig,
  server: string,
  target: ServiceProxyTarget,
  options: ServiceProxyOptions,
): Promise<ServiceProxy> {
  const base = new URL(server);
  const prefix =
    `${base.pathname.replace(/\/$/, '')}/api/v1/namespaces/${encodeURIComponent(target.namespace)}` +
    `/services/${encodeURIComponent(target.service)}:${encodeURIComponent(target.port)}/proxy`;
  const send = base.protocol === 'https:' ? httpsRequest : httpRequest;

  const relay = createServer((req, res) => {
    const headers = forwardHeaders(req, options.authorizationHeader);
    const upstreamOptions: RequestOptions = {
      method: req.method ?? 'GET',
      hostname: base.hostname.replace(/^\[|\]$/g, ''),
      port: base.port === '' ? (base.protocol === 'https:' ? 443 : 80) : Number(base.port),
      path: `${prefix}${req.url ?? '/'}`,
      headers,
    };
    config
      .applyToHTTPSOptions(upstreamOptions)
      .then(() => {
        const upstream = send(upstreamOptions, (answer) => {
          res.writeHead(answer.statusCode ?? 502, answerHeaders(answer.headers));
          res.flushHeaders();
          answer.pipe(res);
        });
        upstream.on('error', (error) => fail(res, error));
        res.on('close', () => upstream.destroy());
        req.pipe(upstream);
      })
      .catch((error: unknown) => fail(res, error));
  });

  await new Promise<void>((resolve, reject) => {
    relay.once('error', (error) =>
      reject(new PgdeckError('unavailable', `cannot open a local relay for ${target.service}: ${error.message}`)),
    );
    relay.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = relay.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        relay.close(() => resolve());
        relay.closeAllConnections();
      }),
  };
}

function forwardHeaders(req: IncomingMessage, authorizationHeader: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || HOP_BY_HOP.has(name)) continue;
    if (name === 'authorization') out[authorizationHeader] = value;
    else out[name] = value;
  }
  return out;
}

function answerHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers))
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  return out;
}

function fail(res: ServerResponse, error: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(502, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({
      error: { code: 'unavailable', message: `the API server's service proxy: ${errorMessage(error)}` },
    }),
  );
}
