import { afterAll, beforeAll } from 'vitest';
import { startEtcd, type EtcdServer } from '../../src/lab/procs/etcd.js';
import { startPostgres, startReplica, type PgOptions, type PgServer } from '../../src/lab/procs/postgres.js';
import { startRedis, type RedisOptions, type RedisServer } from '../../src/lab/procs/redis.js';

/**
 * Real services for a test file: started once in beforeAll on free loopback ports, stopped by PID in
 * afterAll. Read them through the returned getter inside tests.
 */
function shared<T extends { stop?: () => Promise<void>; destroy?: () => Promise<void> }>(
  start: () => Promise<T>,
): () => T {
  let service: T | undefined;
  beforeAll(async () => {
    service = await start();
  });
  afterAll(async () => {
    if (service?.destroy) await service.destroy();
    else await service?.stop?.();
  });
  return () => {
    if (service === undefined) throw new Error('service not started: use it inside a test');
    return service;
  };
}

export const withEtcd = (): (() => EtcdServer) => shared(() => startEtcd());
export const withRedis = (options?: RedisOptions): (() => RedisServer) => shared(() => startRedis(options));
export const withPostgres = (options?: PgOptions): (() => PgServer) => shared(() => startPostgres(options));

export interface PgPair {
  readonly primary: PgServer;
  readonly replicas: readonly PgServer[];
  destroy(): Promise<void>;
}

/** A primary with `count` streaming replicas. */
export async function startPgCluster(count: number, options?: PgOptions): Promise<PgPair> {
  const primary = await startPostgres(options);
  const replicas: PgServer[] = [];
  for (let i = 0; i < count; i++) replicas.push(await startReplica(primary, { name: `replica${i}` }));
  return {
    primary,
    replicas,
    destroy: async () => {
      await Promise.all(replicas.map((r) => r.destroy()));
      await primary.destroy();
    },
  };
}

export const withPgCluster = (count: number, options?: PgOptions): (() => PgPair) =>
  shared(() => startPgCluster(count, options));
