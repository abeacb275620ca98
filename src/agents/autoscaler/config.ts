import { z } from 'zod';
import type { CliOption } from '../kernel/agent.js';
import type { AutoscalerConfig } from './types.js';

const name = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const quantity = z.string().regex(/^\d+(\.\d+)?(m|Ki|Mi|Gi|k|M|G)?$/, 'a Kubernetes quantity such as 500m or 256Mi');

const target = z
  .strictObject({
    kind: z.enum(['StatefulSet', 'Deployment', 'PostgresCluster']),
    name: z.string().regex(name, 'a Kubernetes object name'),
    min: z.number().int().min(0).default(0),
    max: z.number().int().min(1),
    cooldownSeconds: z.number().int().min(0).default(60),
  })
  .refine((t) => t.min <= t.max, { message: 'min must be at most max', path: ['min'] });

const redis = z
  .strictObject({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(1).max(65535).default(6379),
    password: z.string().optional(),
    stream: z.string().min(1).default('otto:scale:events'),
    consumerGroup: z.string().min(1).default('autoscaler'),
    deadLetterStream: z.string().default(''),
  })
  .transform((r) => ({ ...r, deadLetterStream: r.deadLetterStream === '' ? `${r.stream}:dead` : r.deadLetterStream }));

export const autoscalerConfigSchema = z
  .strictObject({
    redis: redis.prefault({}),
    consumer: z.string().regex(/^[A-Za-z0-9][-A-Za-z0-9_.]*$/, 'a consumer name (the pod name)'),
    namespace: z.string().regex(name, 'a namespace name').default('default'),
    kubeconfig: z.string().default(''),
    kubeContext: z.string().default(''),
    agentImage: z.string().min(1, 'the image of the task pods is required'),
    pod: z
      .strictObject({
        cpuRequest: quantity.default('100m'),
        memoryRequest: quantity.default('128Mi'),
        cpuLimit: quantity.default('1'),
        memoryLimit: quantity.default('512Mi'),
      })
      .prefault({}),
    podCountLimit: z.number().int().min(1).max(1000).default(50),
    maxPodsInFlight: z.number().int().min(1).max(10_000).default(200),
    maxEntriesInFlight: z.number().int().min(1).max(1000).default(32),
    createsPerSecond: z.number().min(0.1).max(10_000).default(50),
    createBurst: z.number().int().min(1).max(10_000).default(20),
    retentionSeconds: z.number().int().min(0).default(300),
    claimIdleMs: z.number().int().min(100).default(30_000),
    maxAttempts: z.number().int().min(1).max(100).default(5),
    blockMs: z.number().int().min(10).max(60_000).default(5000),
    targets: z.record(z.string().regex(name, 'a target name'), target).default({}),
  })
  .refine((c) => c.podCountLimit <= c.maxPodsInFlight, {
    message: 'podCountLimit must be at most maxPodsInFlight, or one event could never fit',
    path: ['podCountLimit'],
  }) satisfies z.ZodType<AutoscalerConfig, unknown>;

export const autoscalerCliOptions: readonly CliOption[] = [
  { flag: 'redis-host', key: 'redis.host', type: 'string', describe: 'Redis host', env: ['REDIS_HOST'] },
  { flag: 'redis-port', key: 'redis.port', type: 'number', describe: 'Redis port', env: ['REDIS_PORT'] },
  {
    flag: '',
    key: 'redis.password',
    type: 'string',
    describe: 'Redis password',
    env: ['REDIS_PASSWORD'],
    secret: true,
  },
  {
    flag: 'redis-stream',
    key: 'redis.stream',
    type: 'string',
    describe: 'stream of scale events',
    env: ['REDIS_STREAM'],
  },
  {
    flag: 'redis-consumer-group',
    key: 'redis.consumerGroup',
    type: 'string',
    describe: 'consumer group',
    env: ['REDIS_CONSUMER_GROUP'],
  },
  {
    flag: 'dead-letter-stream',
    key: 'redis.deadLetterStream',
    type: 'string',
    describe: 'stream for entries that cannot be handled (default STREAM:dead)',
  },
  {
    flag: 'consumer',
    key: 'consumer',
    type: 'string',
    describe: 'consumer name in the group (the pod name)',
    env: ['POD_NAME', 'HOSTNAME'],
  },
  {
    flag: 'autoscaler-namespace',
    key: 'namespace',
    type: 'string',
    describe: 'namespace of the task pods and targets',
    env: ['PGDECK_AUTOSCALER_NAMESPACE'],
  },
  { flag: 'autoscaler-kubeconfig', key: 'kubeconfig', type: 'string', describe: 'kubeconfig path' },
  {
    flag: 'agent-image',
    key: 'agentImage',
    type: 'string',
    describe: 'image of the task pods',
    env: ['OTTO_AGENT_IMAGE'],
  },
  { flag: 'pod-count-limit', key: 'podCountLimit', type: 'number', describe: 'largest pod_count an event may ask for' },
  { flag: 'max-pods-in-flight', key: 'maxPodsInFlight', type: 'number', describe: 'unfinished task pods at most' },
  { flag: 'creates-per-second', key: 'createsPerSecond', type: 'number', describe: 'pod creations per second' },
  { flag: 'retention', key: 'retentionSeconds', type: 'number', describe: 'seconds finished task pods are kept' },
];
