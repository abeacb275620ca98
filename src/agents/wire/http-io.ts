import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PgdeckError, errorKind, errorMessage } from '../kernel/errors.js';
import type { Actor } from '../kernel/snapshot.js';
import { headers, wireError } from './protocol.js';

export function sendJson(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(text),
    ...extra,
  });
  res.end(text);
}

export function sendError(res: ServerResponse, error: unknown, extra: Record<string, string> = {}): void {
  const pgdeck = error instanceof PgdeckError ? error : new PgdeckError(errorKind(error), errorMessage(error));
  const { status, body } = wireError(pgdeck);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, status, body, extra);
}

/**
 * Checks `Authorization: Bearer <token>` (or the same value in `X-Pgdeck-Authorization`, as it comes
 * through the API server's service proxy) in constant time: both sides are hashed first, so the
 * comparison never depends on where they differ or on their lengths. No configured token means
 * nobody is authorized.
 */
export function checkBearer(req: IncomingMessage, token: string | undefined): void {
  const header = req.headers[headers.authorization] ?? req.headers[headers.proxiedAuthorization];
  const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  if (match?.[1] === undefined)
    throw new PgdeckError('unauthorized', 'missing bearer token: send "Authorization: Bearer <token>"');
  if (token === undefined || token === '')
    throw new PgdeckError('unauthorized', 'this agent has no API token configured: actions are disabled');
  const given = createHash('sha256').update(match[1]).digest();
  const expected = createHash('sha256').update(token).digest();
  if (!timingSafeEqual(given, expected)) throw new PgdeckError('unauthorized', 'wrong bearer token');
}

/** The audit actor of an API call: `X-Pgdeck-Actor` reduced to safe characters, else `api`. */
export function actorOf(req: IncomingMessage): Actor {
  const raw = req.headers[headers.actor];
  const who = (typeof raw === 'string' ? raw : '')
    .replace(/[^A-Za-z0-9._@:/+ -]/g, '')
    .trim()
    .slice(0, 64);
  return { who: who === '' ? 'api' : who, via: 'api' };
}

/**
 * Reads a JSON request body of at most `maxBytes`. Empty means `{}`. Over the limit is a 413
 * (thrown as a `PayloadTooLarge`), not JSON is an invalid-argument.
 */
export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > maxBytes) throw new PayloadTooLarge(maxBytes);
  const type = req.headers['content-type'];
  const chunks = await collect(req, maxBytes);
  if (chunks.length === 0) return {};
  if (type !== undefined && !/^application\/(.+\+)?json\s*(;|$)/i.test(type)) {
    throw new PgdeckError('invalid-argument', `request body must be application/json, not ${type.slice(0, 60)}`);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new PgdeckError('invalid-argument', 'request body is not valid JSON');
  }
}

/** Reads the body without destroying the request on overflow, so a 413 can still be answered. */
function collect(req: IncomingMessage, maxBytes: number): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= maxBytes) {
        chunks.push(chunk);
        return;
      }
      done();
      reject(new PayloadTooLarge(maxBytes));
    };
    const onEnd = (): void => {
      done();
      resolve(chunks);
    };
    const onError = (error: Error): void => {
      done();
      reject(error);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

export class PayloadTooLarge extends PgdeckError {
  constructor(readonly maxBytes: number) {
    super('invalid-argument', `request body is larger than ${maxBytes} bytes`);
  }
}

/** Answers 413 and closes the connection once the answer is out, so the rest is not read. */
export function sendTooLarge(req: IncomingMessage, res: ServerResponse, error: PayloadTooLarge): void {
  const socket = req.socket as IncomingMessage['socket'] | null;
  sendJson(res, 413, { error: { code: 'invalid-argument', message: error.message } }, { connection: 'close' });
  req.resume();
  res.once('finish', () => {
    setTimeout(() => socket?.destroy(), 100).unref();
  });
}
