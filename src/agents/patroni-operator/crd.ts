import { PGC_GROUP, PGC_KIND, PGC_PLURAL, PGC_VERSION } from './types.js';

/** Where the generated manifest is kept (regenerate with `npm run generate:crd`). */
export const CRD_MANIFEST_PATH = 'manifests/crd/postgresclusters.pgdeck.io.yaml';

type Schema = Readonly<Record<string, unknown>>;
const str = (description: string, extra: Schema = {}): Schema => ({ type: 'string', description, ...extra });
const int = (description: string, extra: Schema = {}): Schema => ({ type: 'integer', description, ...extra });
const bool = (description: string, dflt: boolean): Schema => ({ type: 'boolean', description, default: dflt });
const obj = (description: string, properties: Schema, extra: Schema = {}): Schema => ({
  type: 'object',
  description,
  properties,
  ...extra,
});
const stringMap = (description: string): Schema => ({
  type: 'object',
  description,
  additionalProperties: { 'x-kubernetes-int-or-string': true },
});
const quantity = (description: string): Schema => ({ 'x-kubernetes-int-or-string': true, description });

/** The spec as the API server checks it: types, defaults, enums, minimums, CEL rules. */
export const SPEC_SCHEMA: Schema = obj(
  'The desired PostgreSQL cluster',
  {
    version: int('PostgreSQL major version (the operator refuses one the Spilo image does not run)'),
    replicas: int('Members, primary included', { default: 1, minimum: 1 }),
    storage: obj(
      'The volume of each member',
      {
        size: str('Size of each member volume (cannot shrink)', {
          pattern: '^[0-9]+(\\.[0-9]+)?(k|M|G|T|Ki|Mi|Gi|Ti)?$',
        }),
        storageClass: str('StorageClass of the claims (default: the cluster default)'),
        reclaimPolicy: str('What the finalizer does with the volumes on delete', {
          enum: ['Retain', 'Delete'],
          default: 'Retain',
        }),
      },
      { required: ['size'] },
    ),
    resources: obj('Requests and limits of the postgres container', {
      requests: { type: 'object', additionalProperties: quantity('quantity') },
      limits: { type: 'object', additionalProperties: quantity('quantity') },
    }),
    postgresqlParams: stringMap('postgresql.conf parameters, passed to Patroni'),
    backup: obj(
      'WAL-G backups',
      {
        destination: str('WAL-G prefix: s3://bucket/path, gs://, az://'),
        schedule: str('cron schedule of base backups', { default: '0 1 * * *' }),
        retention: int('base backups kept', { default: 5, minimum: 1 }),
        credentialsSecret: str('Secret whose keys become the WAL-G environment'),
      },
      {
        required: ['destination'],
        'x-kubernetes-validations': [
          {
            rule: "self.destination.matches('^(s3|gs|az)://.+')",
            message: 'backup.destination must be a WAL-G prefix such as s3://bucket/path',
          },
        ],
      },
    ),
    pgbouncer: obj(
      'A pgbouncer pool in front of the primary',
      {
        enabled: bool('run pgbouncer', false),
        replicas: int('pgbouncer pods', { default: 1, minimum: 1 }),
        poolMode: str('pgbouncer pool_mode', { enum: ['session', 'transaction', 'statement'], default: 'transaction' }),
      },
      { default: {} },
    ),
    tls: obj('Server TLS', {
      secretName: str('a kubernetes.io/tls Secret; without it Spilo generates a self-signed certificate'),
    }),
    metrics: obj('The postgres exporter sidecar', { enabled: bool('run the exporter', false) }, { default: {} }),
    paused: bool('stop reconciling (status is still reported)', false),
  },
  { required: ['version', 'storage'] },
);

const condition = obj(
  'A condition',
  {
    type: str('Ready, Progressing, Degraded, ConfigurationValid, ReplicasReady'),
    status: str('True, False or Unknown', { enum: ['True', 'False', 'Unknown'] }),
    reason: str('CamelCase reason'),
    message: str('what to do'),
    lastTransitionTime: str('when the status last changed', { format: 'date-time' }),
    observedGeneration: int('the generation it was computed for'),
  },
  { required: ['type', 'status'] },
);

export const STATUS_SCHEMA: Schema = obj('What the operator observed', {
  phase: str('lifecycle phase'),
  replicas: int('members that exist'),
  readyReplicas: int('members ready'),
  primaryPod: str('the pod Patroni labels spilo-role=master', { nullable: true }),
  replicaPods: { type: 'array', items: { type: 'string' } },
  selector: str('label selector of the pods (scale subresource)'),
  conditions: {
    type: 'array',
    items: condition,
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['type'],
  },
  observedGeneration: int('the generation last reconciled'),
  retry: obj(
    'failed reconciles in a row',
    {
      attempts: int('failures in a row'),
      lastError: str('the last failure'),
      nextRetryAt: str('when the next attempt runs', { format: 'date-time' }),
    },
    { nullable: true },
  ),
});

/** The CustomResourceDefinition, generated from the schema above (one source of truth). */
export function postgresClusterCrd(): Readonly<Record<string, unknown>> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${PGC_PLURAL}.${PGC_GROUP}` },
    spec: {
      group: PGC_GROUP,
      scope: 'Namespaced',
      names: {
        plural: PGC_PLURAL,
        singular: 'postgrescluster',
        kind: PGC_KIND,
        shortNames: ['pgc'],
        categories: ['all'],
      },
      versions: [
        {
          name: PGC_VERSION,
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              required: ['spec'],
              properties: { spec: SPEC_SCHEMA, status: STATUS_SCHEMA },
            },
          },
          subresources: {
            status: {},
            scale: {
              specReplicasPath: '.spec.replicas',
              statusReplicasPath: '.status.replicas',
              labelSelectorPath: '.status.selector',
            },
          },
          additionalPrinterColumns: [
            { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
            { name: 'Ready', type: 'integer', jsonPath: '.status.readyReplicas' },
            { name: 'Replicas', type: 'integer', jsonPath: '.spec.replicas' },
            { name: 'Primary', type: 'string', jsonPath: '.status.primaryPod' },
            { name: 'Version', type: 'integer', jsonPath: '.spec.version' },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
        },
      ],
    },
  };
}
