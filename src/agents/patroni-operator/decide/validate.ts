import type { PoolMode, PostgresClusterSpec, ReclaimPolicy } from '../types.js';

/** The PostgreSQL majors the Spilo image runs. */
export const SUPPORTED_VERSIONS: readonly number[] = [13, 14, 15, 16, 17];
const POOL_MODES: readonly PoolMode[] = ['session', 'transaction', 'statement'];
const RECLAIM: readonly ReclaimPolicy[] = ['Retain', 'Delete'];
/** A Kubernetes object name (DNS-1123 subdomain). */
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const UNITS: Readonly<Record<string, number>> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
};

export type SpecCheck =
  | { readonly kind: 'valid'; readonly spec: PostgresClusterSpec }
  | { readonly kind: 'invalid'; readonly problems: readonly string[] };

/** Bytes of a Kubernetes quantity (`10Gi`, `500M`), or null when it is not one. */
export function quantityBytes(text: string): number | null {
  const m = /^([0-9]+(?:\.[0-9]+)?)(k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(text);
  if (m === null) return null;
  return Number(m[1]) * (UNITS[m[2] ?? ''] ?? 1);
}

type Raw = Readonly<Record<string, unknown>>;
const obj = (v: unknown): Raw => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Raw) : {});
const strings = (v: unknown): Readonly<Record<string, string>> =>
  Object.fromEntries(Object.entries(obj(v)).map(([k, x]) => [k, String(x)]));

/**
 * Checks a PostgresCluster's spec beyond what the CRD's schema refuses (which version the image runs,
 * a shrink of the storage it has), and applies defaults. Every problem is one sentence a user can act on.
 * `currentStorage` is the size the StatefulSet asks for now, if it exists.
 */
export function checkSpec(raw: unknown, currentStorage?: string): SpecCheck {
  const s = obj(raw);
  const problems: string[] = [];
  const version = typeof s.version === 'number' ? s.version : Number(s.version);
  if (!SUPPORTED_VERSIONS.includes(version))
    problems.push(`spec.version ${String(s.version)} is not supported: use one of ${SUPPORTED_VERSIONS.join(', ')}`);
  const replicas = s.replicas === undefined ? 1 : Number(s.replicas);
  if (!Number.isInteger(replicas) || replicas < 1)
    problems.push(`spec.replicas must be a whole number of at least 1, got ${String(s.replicas)}`);
  const storage = obj(s.storage);
  const size = typeof storage.size === 'string' ? storage.size : '';
  const bytes = quantityBytes(size);
  if (bytes === null || bytes <= 0) problems.push(`spec.storage.size must be a quantity such as 10Gi, got "${size}"`);
  const current = currentStorage === undefined ? null : quantityBytes(currentStorage);
  if (bytes !== null && current !== null && bytes < current)
    problems.push(
      `spec.storage.size ${size} is smaller than the ${currentStorage ?? ''} the volumes have: storage cannot shrink, set it back to at least ${currentStorage ?? ''}`,
    );
  const reclaimPolicy = (storage.reclaimPolicy ?? 'Retain') as ReclaimPolicy;
  if (!RECLAIM.includes(reclaimPolicy))
    problems.push(`spec.storage.reclaimPolicy must be Retain or Delete, got ${String(storage.reclaimPolicy)}`);
  const bouncer = obj(s.pgbouncer);
  const poolMode = (bouncer.poolMode ?? 'transaction') as PoolMode;
  if (!POOL_MODES.includes(poolMode))
    problems.push(`spec.pgbouncer.poolMode must be one of ${POOL_MODES.join(', ')}, got ${String(bouncer.poolMode)}`);
  const bouncerReplicas = bouncer.replicas === undefined ? 1 : Number(bouncer.replicas);
  if (!Number.isInteger(bouncerReplicas) || bouncerReplicas < 1)
    problems.push(`spec.pgbouncer.replicas must be at least 1, got ${String(bouncer.replicas)}`);
  const backupRaw = s.backup === undefined ? undefined : obj(s.backup);
  if (backupRaw !== undefined && (typeof backupRaw.destination !== 'string' || backupRaw.destination === ''))
    problems.push('spec.backup.destination is required when backup is set (s3://bucket/path)');
  if (
    backupRaw !== undefined &&
    String(backupRaw.schedule ?? '0 1 * * *')
      .trim()
      .split(/\s+/).length !== 5
  )
    problems.push(`spec.backup.schedule must be a cron line of 5 fields, got "${String(backupRaw.schedule)}"`);
  const tls = obj(s.tls);
  const tlsName = tls.secretName ?? '';
  if (tlsName !== '' && (typeof tlsName !== 'string' || !DNS_SUBDOMAIN.test(tlsName)))
    problems.push(
      `spec.tls.secretName must name a Secret (lowercase letters, digits, '-' and '.'), got "${String(tlsName)}"`,
    );
  if (problems.length > 0) return { kind: 'invalid', problems };
  const resources = obj(s.resources);
  return {
    kind: 'valid',
    spec: {
      version,
      replicas,
      storage: {
        size,
        ...(typeof storage.storageClass === 'string' ? { storageClass: storage.storageClass } : {}),
        reclaimPolicy,
      },
      resources: { requests: strings(resources.requests), limits: strings(resources.limits) },
      postgresqlParams: strings(s.postgresqlParams),
      ...(backupRaw === undefined
        ? {}
        : {
            backup: {
              destination: String(backupRaw.destination),
              schedule: String(backupRaw.schedule ?? '0 1 * * *'),
              retention: Number(backupRaw.retention ?? 5),
              credentialsSecret: String(backupRaw.credentialsSecret ?? ''),
            },
          }),
      pgbouncer: { enabled: bouncer.enabled === true, replicas: bouncerReplicas, poolMode },
      tls: typeof tls.secretName === 'string' && tls.secretName !== '' ? { secretName: tls.secretName } : {},
      metrics: { enabled: obj(s.metrics).enabled === true },
      paused: s.paused === true,
    },
  };
}
