import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { KUBE_RESOURCES, type KubeClient, type KubeObject } from '../../../src/agents/adapters/kube.js';
import { objectNames } from '../../../src/agents/patroni-operator/decide/resources-access.js';
import { PATRONI_CONFIG_KEY } from '../../../src/agents/patroni-operator/decide/resources-config.js';
import { adminKube, eventually, withKube } from '../../helpers/kube.js';
import { clusterSpec, createCluster, installCrd, startOperator, type RunningOperator } from './harness.js';

// The Patroni configuration the operator really applies (its ConfigMap, read back from the API
// server), merged into the base Spilo builds from the StatefulSet's environment, as Spilo does, and
// checked by real Patroni: Debian's `patroni --validate-config` (3.0.2). Version 15 throughout: the
// validator checks that bin_dir exists, and PostgreSQL 15 is what this machine has.

const run = promisify(execFile);
const kube = withKube({ nodes: 1 });
let admin: KubeClient;
let namespace: string;
let operator: RunningOperator;
let dir: string;

beforeAll(async () => {
  admin = adminKube(kube());
  await installCrd(admin);
  namespace = await kube().namespace('pgc-config');
  operator = await startOperator(kube(), namespace, 'operator-a');
  dir = await mkdtemp(join(tmpdir(), 'pgdeck-patroni-config-'));
}, 180_000);

afterAll(async () => {
  await operator?.close();
  await admin?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

type Tree = Record<string, unknown>;
const isTree = (v: unknown): v is Tree => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Spilo's deep_update: mappings merge, every other value (lists too) replaces. */
function deepUpdate(base: Tree, top: Tree): Tree {
  const out: Tree = { ...base };
  for (const [k, v] of Object.entries(top)) out[k] = isTree(v) && isTree(out[k]) ? deepUpdate(out[k], v) : v;
  return out;
}

/** What Spilo's configure_spilo.py writes before it merges SPILO_CONFIGURATION, from the pod's environment. */
function spiloBase(env: ReadonlyMap<string, string>, pod: string): Tree {
  const root = env.get('PGROOT')!;
  return {
    name: pod,
    scope: env.get('SCOPE'),
    restapi: { listen: '0.0.0.0:8008', connect_address: '10.244.0.5:8008' },
    bootstrap: {
      initdb: [{ 'auth-host': 'md5' }, { 'auth-local': 'trust' }],
      pg_hba: ['local all all trust', 'host all all 0.0.0.0/0 md5'],
    },
    postgresql: {
      listen: '*:5432',
      connect_address: '10.244.0.5:5432',
      data_dir: `${root}/data`,
      bin_dir: `/usr/lib/postgresql/${env.get('PGVERSION')}/bin`,
      authentication: {
        superuser: { username: env.get('PGUSER_SUPERUSER'), password: 'from-the-secret' },
        replication: { username: env.get('PGUSER_STANDBY'), password: 'from-the-secret' },
        rewind: { username: 'rewind', password: 'from-the-secret' },
      },
    },
  };
}

async function validate(name: string, config: Tree): Promise<{ code: number; output: string }> {
  const file = join(dir, `${name}.yaml`);
  await writeFile(file, JSON.stringify(config));
  try {
    const { stdout, stderr } = await run('patroni', ['--validate-config', file], { env: { PATH: process.env.PATH } });
    return { code: 0, output: `${stdout}${stderr}` };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** The cluster's applied ConfigMap and StatefulSet, once the operator has applied both. */
async function applied(name: string): Promise<{ patroni: Tree; env: Map<string, string> }> {
  const names = objectNames(name);
  const objects = admin.objects('test-user');
  const [configMap, statefulSet] = await eventually(`${name}: ConfigMap and StatefulSet applied`, async () => {
    const cm = await objects.get<KubeObject>({ resource: KUBE_RESOURCES.configMaps, namespace, name: names.config });
    const sts = await objects.get<KubeObject>({
      resource: KUBE_RESOURCES.statefulSets,
      namespace,
      name: names.statefulSet,
    });
    return cm !== undefined && sts !== undefined ? ([cm, sts] as const) : undefined;
  });
  const data = (configMap as { data?: Record<string, string> }).data?.[PATRONI_CONFIG_KEY];
  const containers = (statefulSet as { spec?: { template?: { spec?: { containers?: unknown[] } } } }).spec?.template
    ?.spec?.containers as { name: string; env?: { name: string; value?: string }[] }[];
  const spilo = containers.find((c) => c.name === 'postgres') ?? containers[0]!;
  const env = new Map((spilo.env ?? []).flatMap((e) => (e.value === undefined ? [] : [[e.name, e.value] as const])));
  return { patroni: parse(data ?? '') as Tree, env };
}

describe('the Patroni configuration the operator applies', () => {
  const specs: [string, Record<string, unknown>][] = [
    ['minimal', clusterSpec({ version: 15, replicas: 1 })],
    [
      'params',
      clusterSpec({
        version: 15,
        postgresqlParams: { max_connections: '300', shared_buffers: '256MB', log_min_duration_statement: '250' },
      }),
    ],
    [
      'full',
      clusterSpec({
        version: 15,
        replicas: 2,
        postgresqlParams: { work_mem: '16MB' },
        backup: { destination: 's3://bucket/pg', schedule: '0 3 * * *', retention: 7 },
        pgbouncer: { enabled: true, replicas: 2, poolMode: 'transaction' },
        tls: { secretName: 'pg-tls' },
        metrics: { enabled: true },
      }),
    ],
  ];

  it.each(specs)('passes patroni --validate-config for the %s spec', async (name, spec) => {
    await createCluster(admin, namespace, name, spec);
    const { patroni, env } = await applied(name);
    expect(env.get('SCOPE')).toBe(name);
    const merged = deepUpdate(spiloBase(env, `${name}-0`), patroni);
    expect(merged).toMatchObject({ scope: name, kubernetes: { namespace, use_endpoints: false } });
    const params = (spec.postgresqlParams ?? {}) as Tree;
    expect((merged.postgresql as Tree).parameters).toEqual(params);
    expect(await validate(name, merged)).toEqual({ code: 0, output: '' });
  });

  it('the validator reads the operator’s keys: one mistyped is refused, naming it', async () => {
    const { patroni, env } = await applied('minimal');
    const bootstrap = patroni.bootstrap as Tree;
    const broken = { ...patroni, bootstrap: { ...bootstrap, dcs: { ...(bootstrap.dcs as Tree), ttl: 'thirty' } } };
    const result = await validate('broken', deepUpdate(spiloBase(env, 'minimal-0'), broken));
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('bootstrap.dcs.ttl thirty is not and integer');
  });
});
