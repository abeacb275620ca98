import { z } from 'zod';
import type { CliOption } from '../kernel/agent.js';
import type { DynamicConfig, FailoverConfig } from './types.js';

/**
 * Dynamic settings kept in etcd; a change is validated here and refused with a message when wrong.
 * The `config` action names an unknown setting itself, so this schema lets one through to it; the
 * config file's `initial` section is the strict form.
 */
export const dynamicConfigSchema = z
  .object({
    ttlSeconds: z.number().int().min(1).max(120).default(2),
    loopIntervalMs: z.number().int().min(50).max(60_000).default(500),
    lagBudgetBytes: z
      .number()
      .int()
      .min(0)
      .default(1024 * 1024),
    synchronousMode: z.boolean().default(false),
    synchronousStrict: z.boolean().default(false),
    paused: z.boolean().default(false),
    failoverTimeoutMs: z.number().int().min(0).max(600_000).default(5000),
  })
  .refine((c) => c.loopIntervalMs * 2 <= c.ttlSeconds * 1000, {
    message: 'loopIntervalMs must be at most half of ttlSeconds, or the lease could lapse between two passes',
    path: ['loopIntervalMs'],
  }) satisfies z.ZodType<DynamicConfig, unknown>;

const etcdList = z.union([z.string(), z.array(z.string())]).transform((v, ctx) => {
  const list = (typeof v === 'string' ? v.split(',') : v).map((s) => s.trim()).filter((s) => s !== '');
  for (const url of list)
    if (!/^https?:\/\/[^/]+$/.test(url))
      ctx.addIssue({ code: 'custom', message: `expected http(s)://host:port, got "${url}"` });
  if (list.length === 0) ctx.addIssue({ code: 'custom', message: 'at least one etcd endpoint is needed' });
  return list;
});

export const failoverConfigSchema = z.strictObject({
  node: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/i, 'a member name: letters, digits, - and _'),
  cluster: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/i, 'a cluster name: letters, digits, - and _')
    .default('pgdeck'),
  etcd: etcdList.default(['http://127.0.0.1:2379']),
  dataDir: z.string().min(1, 'the data directory is required'),
  pgHost: z.string().default('127.0.0.1'),
  pgPort: z.number().int().min(1).max(65535).default(5432),
  pgUser: z.string().default('postgres'),
  apiUrl: z
    .string()
    .regex(/^(https?:\/\/[^/]+)?$/, 'expected http://host:port')
    .default(''),
  noFailover: z.boolean().default(false),
  pgParameters: z.record(z.string(), z.string()).default({}),
  walSegmentSizeMb: z
    .number()
    .int()
    .refine((n) => n >= 1 && n <= 1024 && (n & (n - 1)) === 0, 'a power of 2 from 1 to 1024 (MB)')
    .optional(),
  initial: dynamicConfigSchema.strict().default(dynamicConfigSchema.parse({})),
  probeTimeoutMs: z.number().int().min(50).max(30_000).default(500),
  onStop: z.enum(['stop', 'leave']).default('stop'),
}) satisfies z.ZodType<FailoverConfig, unknown>;

export const failoverCliOptions: readonly CliOption[] = [
  { flag: 'node', key: 'node', type: 'string', describe: "this member's name", env: ['PGDECK_NODE', 'PATRONI_NAME'] },
  {
    flag: 'cluster',
    key: 'cluster',
    type: 'string',
    describe: 'cluster name (the etcd prefix /pgdeck/NAME/)',
    env: ['PGDECK_CLUSTER', 'PATRONI_SCOPE'],
  },
  {
    flag: 'etcd',
    key: 'etcd',
    type: 'string',
    describe: 'etcd endpoints, comma-separated',
    env: ['PGDECK_ETCD', 'PATRONI_ETCD3_HOSTS'],
  },
  {
    flag: 'data-dir',
    key: 'dataDir',
    type: 'string',
    describe: 'PostgreSQL data directory',
    env: ['PGDATA', 'PATRONI_POSTGRESQL_DATA_DIR'],
  },
  { flag: 'pg-host', key: 'pgHost', type: 'string', describe: 'address PostgreSQL listens on and peers connect to' },
  { flag: 'pg-port', key: 'pgPort', type: 'number', describe: 'PostgreSQL port', env: ['PGPORT'] },
  {
    flag: 'pg-user',
    key: 'pgUser',
    type: 'string',
    describe: 'PostgreSQL superuser the daemon connects as',
    env: ['PATRONI_SUPERUSER_USERNAME'],
  },
  { flag: 'api-url', key: 'apiUrl', type: 'string', describe: 'URL peers use to reach this daemon (http://host:port)' },
  { flag: 'nofailover', key: 'noFailover', type: 'boolean', describe: 'never promote this member automatically' },
  {
    flag: 'ttl',
    key: 'initial.ttlSeconds',
    type: 'number',
    describe: 'member lease TTL in seconds (bootstrap value; etcd keeps the live one)',
  },
  {
    flag: 'loop-interval',
    key: 'initial.loopIntervalMs',
    type: 'number',
    describe: 'ms between passes (bootstrap value)',
  },
  {
    flag: 'lag-budget',
    key: 'initial.lagBudgetBytes',
    type: 'number',
    describe: 'max bytes a replica may lag and still be promoted automatically',
  },
  {
    flag: 'synchronous',
    key: 'initial.synchronousMode',
    type: 'boolean',
    describe: 'synchronous replication: no acknowledged write is lost on failover',
  },
  {
    flag: 'synchronous-strict',
    key: 'initial.synchronousStrict',
    type: 'boolean',
    describe:
      'with --synchronous: no commit returns without a synchronous standby (writes wait rather than go async), as Patroni synchronous_mode_strict',
  },
  {
    flag: 'failover-timeout',
    key: 'initial.failoverTimeoutMs',
    type: 'number',
    describe: 'ms to wait for a candidate to replay what it received (and for a switchover to reach the exact LSN)',
  },
  {
    flag: 'probe-timeout',
    key: 'probeTimeoutMs',
    type: 'number',
    describe: 'ms before a probe of postgres or a peer counts as timed out',
  },
  {
    flag: 'on-stop',
    key: 'onStop',
    type: 'string',
    describe: 'on SIGTERM: stop (fast shutdown of postgres, unless the cluster is paused) or leave it running',
    env: ['PGDECK_ON_STOP'],
  },
];
