import { MANAGED_BY, type ObjectView, type PostgresClusterSpec } from '../types.js';
import {
  ownedMeta,
  podSelector,
  ROLE_LABEL,
  SCOPE_LABEL,
  SPILO_LABELS,
  standardLabels,
  type ClusterRef,
} from './labels.js';
import { objectNames } from './resources-access.js';
import { PATRONI_CONFIG_KEY } from './resources-config.js';

/** The images the operator runs (from its config). */
export interface Images {
  readonly spilo: string;
  readonly pgbouncer: string;
  readonly exporter: string;
}

const PGROOT = '/home/postgres/pgdata/pgroot';
const secretEnv = (name: string, secret: string, key: string) => ({
  name,
  valueFrom: { secretKeyRef: { name: secret, key } },
});
const fieldEnv = (name: string, fieldPath: string) => ({
  name,
  valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath } },
});

/** The environment Spilo reads: scope, Kubernetes DCS labels, credentials, the configuration, WAL-G. */
export function spiloEnv(ref: ClusterRef, spec: PostgresClusterSpec): readonly Record<string, unknown>[] {
  const n = objectNames(ref.name);
  const backup = spec.backup;
  return [
    { name: 'SCOPE', value: ref.name },
    { name: 'PGVERSION', value: String(spec.version) },
    { name: 'PGROOT', value: PGROOT },
    fieldEnv('POD_IP', 'status.podIP'),
    fieldEnv('POD_NAMESPACE', 'metadata.namespace'),
    { name: 'PGUSER_SUPERUSER', value: 'postgres' },
    secretEnv('PGPASSWORD_SUPERUSER', n.credentials, 'superuser-password'),
    { name: 'PGUSER_STANDBY', value: 'standby' },
    secretEnv('PGPASSWORD_STANDBY', n.credentials, 'replication-password'),
    { name: 'DCS_ENABLE_KUBERNETES_API', value: 'true' },
    { name: 'KUBERNETES_USE_CONFIGMAPS', value: 'true' },
    { name: 'KUBERNETES_SCOPE_LABEL', value: SCOPE_LABEL },
    { name: 'KUBERNETES_ROLE_LABEL', value: ROLE_LABEL },
    { name: 'KUBERNETES_LABELS', value: JSON.stringify(SPILO_LABELS) },
    { name: 'SPILO_CONFIGURATION', valueFrom: { configMapKeyRef: { name: n.config, key: PATRONI_CONFIG_KEY } } },
    ...(spec.tls.secretName === undefined
      ? []
      : [
          { name: 'SSL_CERTIFICATE_FILE', value: '/tls/tls.crt' },
          { name: 'SSL_PRIVATE_KEY_FILE', value: '/tls/tls.key' },
        ]),
    ...(backup === undefined
      ? []
      : [
          { name: 'USE_WALG_BACKUP', value: 'true' },
          { name: 'USE_WALG_RESTORE', value: 'true' },
          { name: 'WALG_S3_PREFIX', value: backup.destination },
          { name: 'BACKUP_SCHEDULE', value: backup.schedule },
          { name: 'BACKUP_NUM_TO_RETAIN', value: String(backup.retention) },
        ]),
  ];
}

const METRICS_PORT = 9187;
/** Where Prometheus's pod discovery finds the exporter (the `prometheus.io/*` convention). */
const SCRAPE_ANNOTATIONS = { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(METRICS_PORT) };

function exporter(ref: ClusterRef, images: Images): Record<string, unknown> {
  return {
    name: 'exporter',
    image: images.exporter,
    ports: [{ name: 'metrics', containerPort: METRICS_PORT, protocol: 'TCP' }],
    env: [
      { name: 'DATA_SOURCE_URI', value: 'localhost:5432/postgres?sslmode=disable' },
      { name: 'DATA_SOURCE_USER', value: 'postgres' },
      secretEnv('DATA_SOURCE_PASS', objectNames(ref.name).credentials, 'superuser-password'),
    ],
  };
}

/** The Spilo StatefulSet: one pod per member, each with its claim, readiness from Patroni's REST API. */
export function statefulSet(ref: ClusterRef, spec: PostgresClusterSpec, images: Images): ObjectView {
  const n = objectNames(ref.name);
  const backup = spec.backup;
  const spilo = {
    name: 'postgres',
    image: images.spilo,
    ports: [
      { name: 'postgresql', containerPort: 5432, protocol: 'TCP' },
      { name: 'patroni', containerPort: 8008, protocol: 'TCP' },
    ],
    env: spiloEnv(ref, spec),
    ...(backup === undefined || backup.credentialsSecret === ''
      ? {}
      : { envFrom: [{ secretRef: { name: backup.credentialsSecret } }] }),
    resources: { requests: spec.resources.requests, limits: spec.resources.limits },
    readinessProbe: { httpGet: { path: '/readiness', port: 8008 }, periodSeconds: 10, timeoutSeconds: 5 },
    volumeMounts: [
      { name: 'pgdata', mountPath: '/home/postgres/pgdata' },
      ...(spec.tls.secretName === undefined ? [] : [{ name: 'tls', mountPath: '/tls', readOnly: true }]),
    ],
  };
  return {
    metadata: ownedMeta(ref, n.statefulSet, 'database'),
    spec: {
      replicas: spec.replicas,
      serviceName: n.headless,
      podManagementPolicy: 'Parallel',
      selector: { matchLabels: podSelector(ref) },
      template: {
        metadata: {
          labels: standardLabels(ref, 'database'),
          ...(spec.metrics.enabled ? { annotations: SCRAPE_ANNOTATIONS } : {}),
        },
        spec: {
          serviceAccountName: n.account,
          terminationGracePeriodSeconds: 30,
          containers: [spilo, ...(spec.metrics.enabled ? [exporter(ref, images)] : [])],
          ...(spec.tls.secretName === undefined
            ? {}
            : { volumes: [{ name: 'tls', secret: { secretName: spec.tls.secretName, defaultMode: 0o440 } }] }),
        },
      },
      volumeClaimTemplates: [
        {
          metadata: { name: 'pgdata', labels: podSelector(ref) },
          spec: {
            accessModes: ['ReadWriteOnce'],
            resources: { requests: { storage: spec.storage.size } },
            ...(spec.storage.storageClass === undefined ? {} : { storageClassName: spec.storage.storageClass }),
          },
        },
      ],
    },
  };
}

/** The pgbouncer Deployment and its Service, in front of the primary Service. */
export function pooler(ref: ClusterRef, spec: PostgresClusterSpec, images: Images): readonly ObjectView[] {
  const n = objectNames(ref.name);
  const selector = { 'app.kubernetes.io/instance': ref.name, 'app.kubernetes.io/component': 'pooler' };
  return [
    {
      metadata: ownedMeta(ref, n.pooler, 'pooler'),
      spec: {
        replicas: spec.pgbouncer.replicas,
        selector: { matchLabels: selector },
        template: {
          metadata: { labels: { ...selector, 'app.kubernetes.io/managed-by': MANAGED_BY } },
          spec: {
            containers: [
              {
                name: 'pgbouncer',
                image: images.pgbouncer,
                ports: [{ name: 'pgbouncer', containerPort: 5432, protocol: 'TCP' }],
                env: [
                  { name: 'PGBOUNCER_DATABASE', value: '*' },
                  { name: 'POSTGRESQL_HOST', value: n.primary },
                  { name: 'PGBOUNCER_POOL_MODE', value: spec.pgbouncer.poolMode },
                  { name: 'POSTGRESQL_USERNAME', value: 'postgres' },
                  secretEnv('POSTGRESQL_PASSWORD', n.credentials, 'superuser-password'),
                ],
              },
            ],
          },
        },
      },
    },
    {
      metadata: ownedMeta(ref, n.pooler, 'pooler'),
      spec: {
        type: 'ClusterIP',
        selector,
        ports: [{ name: 'pgbouncer', port: 5432, targetPort: 5432, protocol: 'TCP' }],
      },
    },
  ];
}
