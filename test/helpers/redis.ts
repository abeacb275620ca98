import { Redis } from 'ioredis';
import { afterEach } from 'vitest';
import { RedisStreams, type RedisStreamsOptions } from '../../src/agents/adapters/redis.js';
import type { RedisServer } from '../../src/lab/procs/redis.js';
import { until } from './failover.js';

/** Opens adapters (and plain clients for checks) on a lab Redis; all closed after each test. */
export function redisClients(): {
  streams(server: Pick<RedisServer, 'host' | 'port'>, options?: Partial<RedisStreamsOptions>): RedisStreams;
  raw(server: RedisServer, password?: string): Redis;
} {
  const open: { close(): void }[] = [];
  afterEach(() => {
    for (const client of open.splice(0)) client.close();
  });
  return {
    streams: (server, options = {}) => {
      const streams = new RedisStreams({ host: server.host, port: server.port, name: 'test', ...options });
      open.push(streams);
      return streams;
    },
    raw: (server, password) => {
      const client = new Redis({
        host: server.host,
        port: server.port,
        ...(password === undefined ? {} : { password }),
      });
      client.on('error', () => undefined);
      open.push({ close: () => client.disconnect() });
      return client;
    },
  };
}

/** Waits until the connection named `name` is blocked in XREADGROUP on the server (CLIENT LIST flag `b`). */
export function untilBlocked(raw: Redis, name: string, timeoutMs = 5000): Promise<true> {
  return until(
    `${name} blocked in XREADGROUP`,
    async () => {
      const list = String(await raw.client('LIST'));
      return list.split('\n').some((line) => {
        const fields = new Map(
          line.split(' ').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
        );
        return (
          fields.get('name') === name && fields.get('cmd') === 'xreadgroup' && (fields.get('flags') ?? '').includes('b')
        );
      });
    },
    timeoutMs,
    5,
  );
}

/** The error a promise rejects with (fails the test when it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<Error & { kind?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { kind?: string };
  }
  throw new Error('expected a rejection, but the call succeeded');
}
