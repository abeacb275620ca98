import { z } from 'zod';
import type { CliOption } from '../kernel/agent.js';
import type { OperatorConfig } from './types.js';

export const operatorConfigSchema = z.strictObject({
  kubeconfig: z.string().default(''),
  kubeContext: z.string().default(''),
  namespace: z.string().default(''),
  instance: z.string().min(1, 'a replica name (the pod name)').default('patroni-operator'),
  spiloImage: z.string().min(1).default('ghcr.io/zalando/spilo-17:4.0-p2'),
  pgbouncerImage: z.string().min(1).default('bitnami/pgbouncer:1.24.1'),
  exporterImage: z.string().min(1).default('quay.io/prometheuscommunity/postgres-exporter:v0.17.1'),
  failedAfterAttempts: z.number().int().min(1).max(100).default(5),
  patroniApiAnnotation: z.boolean().default(false),
}) satisfies z.ZodType<OperatorConfig, unknown>;

export const operatorCliOptions: readonly CliOption[] = [
  {
    flag: 'kubeconfig',
    key: 'kubeconfig',
    type: 'string',
    describe: 'kubeconfig file of the cluster the operator manages (default: $KUBECONFIG, in-cluster, ~/.kube/config)',
  },
  { flag: 'operator-context', key: 'kubeContext', type: 'string', describe: 'kubeconfig context' },
  {
    flag: 'watch-namespace',
    key: 'namespace',
    type: 'string',
    describe: 'namespace whose PostgresClusters are reconciled (empty: all)',
    env: ['WATCH_NAMESPACE'],
  },
  {
    flag: 'operator-instance',
    key: 'instance',
    type: 'string',
    describe: "this replica's name (the Lease holder identity)",
    env: ['POD_NAME'],
  },
  {
    flag: 'spilo-image',
    key: 'spiloImage',
    type: 'string',
    describe: 'Spilo image of the database pods',
    env: ['SPILO_IMAGE'],
  },
  { flag: 'pgbouncer-image', key: 'pgbouncerImage', type: 'string', describe: 'pgbouncer image' },
  { flag: 'exporter-image', key: 'exporterImage', type: 'string', describe: 'postgres exporter image' },
  {
    flag: 'patroni-api-annotation',
    key: 'patroniApiAnnotation',
    type: 'boolean',
    describe:
      "let a pod's pgdeck.io/patroni-api annotation (host:port) name its Patroni REST API (default: pod IP:8008)",
  },
];
