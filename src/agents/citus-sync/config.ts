import { hostname } from 'node:os';
import { z } from 'zod';
import type { CliOption } from '../kernel/agent.js';
import { parseAddress } from './address-policy.js';
import type { CitusSyncConfig } from './types.js';

const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export const citusSyncConfigSchema = z.strictObject({
  host: z
    .string()
    .refine(
      (h) => h.split(',').every((entry) => parseAddress(entry, 5432) !== null),
      'expected host[:port], comma-separated',
    ),
  port: z.number().int().min(1).max(65535).default(5432),
  user: z.string().min(1).default('postgres'),
  password: z.string().optional(),
  passwordFile: z.string().min(1).optional(),
  database: z.string().min(1).default('postgres'),
  coordinatorHost: z.string().min(1).optional(),
  namespace: z.string().regex(dnsLabel, 'expected a DNS-1123 label').default('default'),
  labelSelector: z.string().min(1, 'a label selector of the worker pods is required'),
  scanIntervalSeconds: z.number().min(0.1).max(86_400).default(60),
  addressing: z.enum(['dns', 'ip', 'annotation']).default('dns'),
  service: z.string().regex(dnsLabel, 'expected a DNS-1123 label').optional(),
  clusterDomain: z.string().min(1).default('cluster.local'),
  addressAnnotation: z.string().min(1).default('pgdeck.io/citus-address'),
  workerPort: z.number().int().min(1).max(65535).default(5432),
  policy: z.enum(['disable', 'remove', 'drain']).default('disable'),
  finalizer: z
    .string()
    .regex(/^[a-z0-9.-]+\/[a-z0-9-]+$/, 'expected domain/name')
    .default('pgdeck.io/citus-drain'),
  nodeAnnotation: z
    .string()
    .regex(/^[a-z0-9.-]+\/[a-z0-9-]+$/, 'expected domain/name')
    .default('pgdeck.io/citus-node'),
  kubeconfig: z.string().min(1).optional(),
  kubeContext: z.string().min(1).optional(),
  replica: z
    .string()
    .min(1)
    .default(() => `${hostname()}-${process.pid}`),
  statementTimeoutSeconds: z.number().min(1).max(86_400).default(600),
}) satisfies z.ZodType<CitusSyncConfig, unknown>;

export const citusSyncCliOptions: readonly CliOption[] = [
  {
    flag: 'citus-host',
    key: 'host',
    type: 'string',
    describe: 'Citus coordinator host[:port], comma-separated candidates (the read-write one is used)',
    env: ['CITUS_HOST'],
  },
  { flag: 'citus-port', key: 'port', type: 'number', describe: 'Citus coordinator port', env: ['POSTGRES_PORT'] },
  { flag: 'citus-user', key: 'user', type: 'string', describe: 'PostgreSQL superuser', env: ['POSTGRES_USER'] },
  {
    flag: '',
    key: 'password',
    type: 'string',
    describe: 'PostgreSQL password',
    env: ['POSTGRES_PASSWORD'],
    secret: true,
  },
  {
    flag: 'citus-password-file',
    key: 'passwordFile',
    type: 'string',
    describe: 'file holding the PostgreSQL password',
    env: ['POSTGRES_PASSWORD_FILE'],
  },
  { flag: 'citus-database', key: 'database', type: 'string', describe: 'database', env: ['POSTGRES_DB'] },
  {
    flag: 'worker-namespace',
    key: 'namespace',
    type: 'string',
    describe: 'namespace of the worker pods',
    env: ['POD_NAMESPACE'],
  },
  {
    flag: 'label-selector',
    key: 'labelSelector',
    type: 'string',
    describe: 'label selector of the worker pods',
    env: ['LABEL_SELECTOR'],
  },
  {
    flag: 'scan-interval',
    key: 'scanIntervalSeconds',
    type: 'number',
    describe: 'seconds between resyncs that repair drift (the pod watch wakes the agent in between)',
    env: ['SCAN_INTERVAL_SECONDS'],
  },
  {
    flag: 'worker-addressing',
    key: 'addressing',
    type: 'string',
    describe: 'how a worker is named in pg_dist_node: dns (headless service), ip, or annotation',
  },
  { flag: 'worker-service', key: 'service', type: 'string', describe: 'headless service of the worker pods' },
  {
    flag: 'removal-policy',
    key: 'policy',
    type: 'string',
    describe: 'a worker pod gone or not ready: disable, remove, or drain (finalizer, move shards, remove)',
  },
];
