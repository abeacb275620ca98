import { chmodSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { join } from 'node:path';
import { PgdeckError } from '../../agents/kernel/errors.js';
import { SOCKET_FILE } from './state.js';

/** One route of the supervisor's control socket: a JSON body in, a JSON answer out. */
export type ControlRoute = (body: Record<string, unknown>) => Promise<{ status: number; body: unknown }>;

/**
 * The supervisor's control API on a unix socket in the lab dir (mode 0600): no network listener,
 * and only the lab's owner can reach it.
 */
export async function serveControl(dir: string, routes: Readonly<Record<string, ControlRoute>>): Promise<Server> {
  const path = join(dir, SOCKET_FILE);
  rmSync(path, { force: true });
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const route = routes[`${req.method ?? 'GET'} ${req.url ?? '/'}`];
      const answer = (status: number, body: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (route === undefined) return answer(404, { error: `no route ${req.method} ${req.url}` });
      let body: Record<string, unknown>;
      try {
        const text = Buffer.concat(chunks).toString('utf8');
        body = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
      } catch {
        return answer(400, { error: 'the body is not JSON' });
      }
      route(body).then(
        (r) => answer(r.status, r.body),
        (error: unknown) =>
          answer(error instanceof PgdeckError && error.kind === 'invalid-argument' ? 400 : 500, {
            error: error instanceof Error ? error.message : String(error),
          }),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  chmodSync(path, 0o600);
  return server;
}

/** A call to a running supervisor; `unavailable` when nothing answers on the socket. */
export function callControl(
  dir: string,
  method: 'GET' | 'POST',
  path: string,
  body: Record<string, unknown> = {},
  timeoutMs = 120_000,
): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const payload = method === 'POST' ? JSON.stringify(body) : '';
    const req = request(
      {
        socketPath: join(dir, SOCKET_FILE),
        // no keep-alive pool: an idle pooled socket kept every CLI call alive until main's exit timer
        agent: false,
        method,
        path,
        headers: { 'content-type': 'application/json' },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          try {
            resolve({
              status: res.statusCode ?? 0,
              body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
            });
          } catch (error) {
            reject(
              new PgdeckError('unavailable', `the lab supervisor answered ${path} with no JSON`, { cause: error }),
            );
          }
        });
      },
    );
    req.once('timeout', () =>
      req.destroy(new PgdeckError('timeout', `the lab supervisor did not answer ${path} in ${timeoutMs} ms`)),
    );
    req.once('error', (error) =>
      reject(
        error instanceof PgdeckError
          ? error
          : new PgdeckError('unavailable', `the lab supervisor is not reachable: ${error.message}`, { cause: error }),
      ),
    );
    req.end(payload);
  });
}
