import { describe, expect, it } from 'vitest';
import { CACHE_LAG_MS, decideCluster } from '../../../src/agents/patroni-operator/decide/compose.js';
import { ownedKey } from '../../../src/agents/patroni-operator/decide/desired.js';
import { statusChanged } from '../../../src/agents/patroni-operator/decide/status.js';
import { checkSpec } from '../../../src/agents/patroni-operator/decide/validate.js';
import { operatorConfigSchema } from '../../../src/agents/patroni-operator/config.js';
import type {
  ClusterAction,
  ClusterObserved,
  MemberView,
  ObjectView,
  PostgresClusterStatus,
} from '../../../src/agents/patroni-operator/types.js';

const config = operatorConfigSchema.parse({});
const NOW = Date.parse('2026-12-01T12:00:00Z');
const spec = { version: 16, replicas: 3, storage: { size: '1Gi' } };

function cluster(
  extra: { spec?: unknown; status?: PostgresClusterStatus; deleting?: boolean; finalizers?: string[] } = {},
): ObjectView {
  return {
    apiVersion: 'pgdeck.io/v1alpha1',
    kind: 'PostgresCluster',
    metadata: {
      name: 'pg',
      namespace: 'ns',
      uid: 'uid-1',
      resourceVersion: '10',
      generation: 1,
      finalizers: extra.finalizers ?? ['pgdeck.io/patroni-operator'],
      ...(extra.deleting === true ? { deletionTimestamp: '2026-12-01T11:59:00Z' } : {}),
    },
    spec: extra.spec ?? spec,
    ...(extra.status === undefined ? {} : { status: extra.status }),
  };
}

function observed(o: Partial<ClusterObserved> = {}): ClusterObserved {
  return { key: 'ns/pg', synced: true, cluster: cluster(), owned: {}, members: [], memory: { applied: {} }, ...o };
}

const kinds = (actions: readonly ClusterAction[]): string[] => actions.map((a) => a.kind);
const members = (n: number, ready = true): MemberView[] =>
  Array.from({ length: n }, (_, i) => ({ name: `pg-${i}`, role: i === 0 ? 'master' : 'replica', ready }));

/** What the cluster would own after every apply of `actions` went through, as the informers would show it. */
function ownedAfter(actions: readonly ClusterAction[], replicas = 3): Record<string, ObjectView> {
  const owned: Record<string, ObjectView> = {};
  for (const a of actions) {
    if (a.kind === 'apply') {
      const object =
        a.desired.kind === 'statefulSets'
          ? {
              ...a.desired.object,
              metadata: { ...a.desired.object.metadata, generation: 1 },
              status: { observedGeneration: 1, updatedReplicas: replicas, currentRevision: 'r1', updateRevision: 'r1' },
            }
          : a.desired.object;
      owned[ownedKey(a.desired.kind, a.desired.name)] = object;
    }
    if (a.kind === 'create-secret') owned[ownedKey('secrets', a.name)] = a.object;
  }
  return owned;
}

const statusIn = (actions: readonly ClusterAction[]): PostgresClusterStatus | undefined =>
  actions.flatMap((a) => (a.kind === 'patch-status' ? [a.status] : []))[0];

describe('decideCluster', () => {
  it('does nothing until the informers have listed', () => {
    const d = decideCluster(observed({ synced: false }), NOW, config);
    expect(d.actions).toEqual([]);
    expect(d.requeueAfterMs).toBe(500);
  });

  it('adds the finalizer first, alone', () => {
    const d = decideCluster(observed({ cluster: cluster({ finalizers: [] }) }), NOW, config);
    expect(kinds(d.actions)).toEqual(['add-finalizer']);
  });

  it('creates the credentials and applies every object of a new cluster, in phase Creating', () => {
    const d = decideCluster(observed(), NOW, config);
    expect(kinds(d.actions)).toEqual([
      'create-secret',
      ...Array<string>(9).fill('apply'),
      'record-event',
      'patch-status',
    ]);
    const applied = d.actions.flatMap((a) => (a.kind === 'apply' ? [`${a.desired.kind}/${a.desired.name}`] : []));
    expect(applied).toEqual([
      'serviceAccounts/pg-patroni',
      'roles/pg-patroni',
      'roleBindings/pg-patroni',
      'configMaps/pg-spilo',
      'statefulSets/pg',
      'services/pg',
      'services/pg-repl',
      'services/pg-headless',
      'podDisruptionBudgets/pg',
    ]);
    expect(statusIn(d.actions)?.phase).toBe('Creating');
  });

  it('reaches Running when the members are ready with a primary, then a pass writes nothing', () => {
    const first = decideCluster(observed(), NOW, config);
    const owned = ownedAfter(first.actions);
    const creating = statusIn(first.actions);
    const second = decideCluster(
      observed({ owned, members: members(3), cluster: cluster({ status: creating ?? {} }) }),
      NOW + 1000,
      config,
    );
    expect(kinds(second.actions)).toEqual(['record-event', 'patch-status']);
    const running = statusIn(second.actions);
    expect(running).toMatchObject({
      phase: 'Running',
      readyReplicas: 3,
      primaryPod: 'pg-0',
      replicaPods: ['pg-1', 'pg-2'],
    });
    const third = decideCluster(
      observed({ owned, members: members(3), cluster: cluster({ status: running ?? {} }) }),
      NOW + 2000,
      config,
    );
    expect(third.actions).toEqual([]);
    expect(third.summary).toBe('Running: healthy');
  });

  it('a member that is not ready degrades a running cluster', () => {
    const first = decideCluster(observed(), NOW, config);
    const owned = ownedAfter(first.actions);
    const ms = members(3);
    const d = decideCluster(
      observed({
        owned,
        members: [ms[0]!, ms[1]!, { ...ms[2]!, ready: false }],
        cluster: cluster({ status: { ...statusIn(first.actions), phase: 'Running' } }),
      }),
      NOW,
      config,
    );
    expect(statusIn(d.actions)).toMatchObject({ phase: 'Degraded', readyReplicas: 2 });
    expect(d.actions.find((a) => a.kind === 'record-event')).toMatchObject({ type: 'Warning', reason: 'Degraded' });
  });

  it('an apply the cache does not show yet is not repeated', () => {
    const first = decideCluster(observed(), NOW, config);
    const applied = Object.fromEntries(
      first.actions.flatMap((a) =>
        a.kind === 'apply' ? [[`ns/pg/${a.desired.kind}/${a.desired.name}`, { hash: a.desired.hash, at: NOW }]] : [],
      ),
    );
    const d = decideCluster(
      observed({ memory: { applied: { ...applied, 'ns/pg/secrets/pg-credentials': { hash: 'created', at: NOW } } } }),
      NOW + 1000,
      config,
    );
    expect(kinds(d.actions).filter((k) => k === 'apply' || k === 'create-secret')).toEqual([]);
  });

  it('holds a status patch while the cache still shows the version the last one was conditioned on', () => {
    const first = decideCluster(observed(), NOW, config);
    const patched = first.actions.find((a) => a.kind === 'patch-status');
    expect(patched).toMatchObject({ resourceVersion: '10' });
    const status = { memory: { applied: { 'ns/pg/status': { hash: '10', at: NOW } } } };
    const withStatus = (at: number, o: Partial<ClusterObserved> = {}) =>
      kinds(decideCluster(observed({ ...status, ...o }), at, config).actions).includes('patch-status');
    expect(withStatus(NOW + 100)).toBe(false);
    expect(withStatus(NOW + CACHE_LAG_MS + 1)).toBe(true);
    const newer = cluster();
    expect(
      withStatus(NOW + 100, { cluster: { ...newer, metadata: { ...newer.metadata, resourceVersion: '11' } } }),
    ).toBe(true);
  });

  it('an invalid spec touches nothing and says what to do in ConfigurationValid', () => {
    const d = decideCluster(observed({ cluster: cluster({ spec: { ...spec, version: 9 } }) }), NOW, config);
    expect(kinds(d.actions)).toEqual(['record-event', 'patch-status']);
    const condition = statusIn(d.actions)?.conditions?.find((c) => c.type === 'ConfigurationValid');
    expect(condition).toMatchObject({ status: 'False', reason: 'InvalidSpec' });
    expect(condition?.message).toContain('spec.version 9 is not supported: use one of 13, 14, 15, 16, 17');
    expect(statusIn(d.actions)?.phase).toBe('Failed');

    const again = decideCluster(
      observed({ cluster: cluster({ spec: { ...spec, version: 9 }, status: statusIn(d.actions)! }) }),
      NOW + 5000,
      config,
    );
    expect(again.actions).toEqual([]);
    expect(again.requeueAfterMs).toBeUndefined();
  });

  it('a storage shrink is refused against the size the StatefulSet has', () => {
    const first = decideCluster(observed(), NOW, config);
    const d = decideCluster(
      observed({
        owned: ownedAfter(first.actions),
        currentStorage: '1Gi',
        cluster: cluster({ spec: { ...spec, storage: { size: '500Mi' } }, status: { phase: 'Running' } }),
      }),
      NOW,
      config,
    );
    expect(kinds(d.actions)).not.toContain('apply');
    expect(statusIn(d.actions)?.phase).toBe('Running');
    expect(statusIn(d.actions)?.conditions?.find((c) => c.type === 'ConfigurationValid')?.message).toContain(
      'storage cannot shrink',
    );
  });

  it('turning pgbouncer off deletes its Deployment and Service', () => {
    const on = decideCluster(
      observed({ cluster: cluster({ spec: { ...spec, pgbouncer: { enabled: true } } }) }),
      NOW,
      config,
    );
    const owned = ownedAfter(on.actions);
    expect(Object.keys(owned)).toContain('deployments/pg-pooler');
    const off = decideCluster(observed({ owned }), NOW, config);
    expect(off.actions.filter((a) => a.kind === 'delete')).toEqual([
      { kind: 'delete', ownedKind: 'deployments', name: 'pg-pooler' },
      { kind: 'delete', ownedKind: 'services', name: 'pg-pooler' },
    ]);
  });

  it('paused: reports status, applies nothing', () => {
    const d = decideCluster(observed({ cluster: cluster({ spec: { ...spec, paused: true } }) }), NOW, config);
    expect(kinds(d.actions)).toEqual(['patch-status']);
    expect(statusIn(d.actions)?.conditions?.find((c) => c.type === 'Progressing')?.reason).toBe('Paused');
  });

  it('deleting: cleans Patroni’s objects (and the claims with reclaimPolicy Delete), then drops the finalizer', () => {
    const retain = decideCluster(observed({ cluster: cluster({ deleting: true }) }), NOW, config);
    expect(kinds(retain.actions)).toEqual(['record-event', 'clean-up', 'remove-finalizer']);
    expect(retain.actions[1]).toMatchObject({ selector: 'application=spilo,cluster-name=pg', deleteClaims: false });
    const del = decideCluster(
      observed({
        cluster: cluster({ deleting: true, spec: { ...spec, storage: { size: '1Gi', reclaimPolicy: 'Delete' } } }),
      }),
      NOW,
      config,
    );
    expect(del.actions[1]).toMatchObject({ deleteClaims: true });
    const done = decideCluster(observed({ cluster: cluster({ deleting: true, finalizers: [] }) }), NOW, config);
    expect(done.actions).toEqual([]);
  });
});

describe('checkSpec', () => {
  const problems = (raw: unknown, current?: string): readonly string[] => {
    const c = checkSpec(raw, current);
    return c.kind === 'invalid' ? c.problems : [];
  };
  it('accepts a minimal spec and fills the defaults', () => {
    const c = checkSpec({ version: 17, storage: { size: '10Gi' } });
    expect(c).toMatchObject({
      kind: 'valid',
      spec: {
        replicas: 1,
        pgbouncer: { enabled: false, poolMode: 'transaction' },
        storage: { reclaimPolicy: 'Retain' },
      },
    });
  });
  it.each([
    [{ ...spec, replicas: 0 }, 'spec.replicas must be a whole number of at least 1, got 0'],
    [
      { ...spec, pgbouncer: { poolMode: 'bogus' } },
      'spec.pgbouncer.poolMode must be one of session, transaction, statement, got bogus',
    ],
    [{ ...spec, version: 'x' }, 'spec.version x is not supported'],
    [{ ...spec, storage: { size: 'big' } }, 'spec.storage.size must be a quantity such as 10Gi, got "big"'],
    [{ ...spec, backup: { destination: 's3://b', schedule: 'daily' } }, 'spec.backup.schedule must be a cron line'],
    [{ ...spec, tls: { secretName: 'My_Cert' } }, 'spec.tls.secretName must name a Secret'],
    [{ ...spec, tls: { secretName: 'a..b' } }, 'spec.tls.secretName must name a Secret'],
  ])('%j: %s', (raw, words) => {
    expect(problems(raw).join('; ')).toContain(words);
  });
  it('accepts a TLS Secret name with dots', () => {
    expect(problems({ ...spec, tls: { secretName: 'db.example-tls' } })).toEqual([]);
  });
  it('refuses a shrink below the current size, accepts a growth', () => {
    expect(problems({ ...spec, storage: { size: '1G' } }, '1Gi').join()).toContain('cannot shrink');
    expect(problems({ ...spec, storage: { size: '2Gi' } }, '1Gi')).toEqual([]);
  });
});

describe('statusChanged', () => {
  it('ignores the order of keys the server sends and treats null as absent', () => {
    const mine: PostgresClusterStatus = {
      phase: 'Running',
      primaryPod: null,
      conditions: [{ type: 'Ready', status: 'True', reason: 'Running', message: 'm', lastTransitionTime: 't' }],
    };
    const served = JSON.parse(
      '{"conditions":[{"lastTransitionTime":"t","message":"m","reason":"Running","status":"True","type":"Ready"}],"phase":"Running"}',
    ) as PostgresClusterStatus;
    expect(statusChanged(served, mine)).toBe(false);
    expect(statusChanged(served, { ...mine, phase: 'Degraded' })).toBe(true);
  });
});
