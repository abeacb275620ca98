import { describe, expect, it } from 'vitest';
import { parseAddress, podView } from '../../../src/agents/citus-sync/address-policy.js';
import { citusSyncConfigSchema } from '../../../src/agents/citus-sync/config.js';
import { decideCitusSync, workerKeys } from '../../../src/agents/citus-sync/decide/compose.js';
import { decideWorker } from '../../../src/agents/citus-sync/decide/worker.js';
import { formerRow, movedTo, recordedCandidate } from '../../../src/agents/citus-sync/move-policy.js';
import type {
  CitusSyncObserved,
  DistNode,
  PodView,
  RemovalPolicy,
  WorkerObserved,
} from '../../../src/agents/citus-sync/types.js';

const address = { host: '10.0.0.7', port: 5432 };
const key = '10.0.0.7:5432';
const pod = (over: Partial<PodView> = {}): PodView => ({
  name: 'w1',
  uid: 'u1',
  phase: 'Running',
  ready: true,
  deleting: false,
  held: false,
  address,
  addressProblem: null,
  recordedNode: 4,
  ...over,
});
const node = (over: Partial<DistNode> = {}): DistNode => ({
  nodeid: 4,
  groupid: 3,
  nodename: address.host,
  nodeport: address.port,
  isactive: true,
  noderole: 'primary',
  shouldhaveshards: true,
  metadatasynced: true,
  shards: 0,
  ...over,
});
const worker = (pods: PodView[], n: DistNode | null, policy: RemovalPolicy = 'disable'): WorkerObserved => ({
  key,
  address,
  pods,
  node: n,
  podsSynced: true,
  policy,
  former: null,
  movedTo: null,
});
const kinds = (o: WorkerObserved): string[] => decideWorker(o).actions.map((a) => a.kind);

describe('decideWorker', () => {
  const cases: [string, WorkerObserved, string[]][] = [
    ['a ready pod without a node is added', worker([pod()], null), ['add-node']],
    [
      'a ready pod with an inactive node re-activates it',
      worker([pod()], node({ isactive: false })),
      ['activate-node'],
    ],
    ['a ready pod with an active node is in step', worker([pod()], node()), []],
    ['under drain a ready pod gets the finalizer first', worker([pod()], null, 'drain'), ['add-finalizer', 'add-node']],
    ['a not-ready pod disables its node', worker([pod({ ready: false })], node()), ['disable-node']],
    ['an already disabled node is left alone', worker([pod({ ready: false })], node({ isactive: false })), []],
    ['no pod under remove removes the node', worker([], node(), 'remove'), ['remove-node']],
    [
      'a deleted pod under drain: drain, remove, release',
      worker([pod({ deleting: true, held: true })], node({ shards: 3 }), 'drain'),
      ['drain-node', 'remove-node', 'release-finalizer'],
    ],
    [
      'a drained node is only removed',
      worker([pod({ deleting: true, held: true })], node({ shouldhaveshards: false }), 'drain'),
      ['remove-node', 'release-finalizer'],
    ],
    [
      'a held pod whose node is gone is released',
      worker([pod({ deleting: true, held: true })], null, 'drain'),
      ['release-finalizer'],
    ],
    ['two ready pods on one address: nothing', worker([pod(), pod({ name: 'w2', uid: 'u2' })], null), []],
    ['the coordinator row is never touched', worker([], node({ groupid: 0 }), 'remove'), []],
    ['nothing while the pod list is not synced', { ...worker([], node(), 'remove'), podsSynced: false }, []],
    ['a registered pod gets its nodeid recorded', worker([pod({ recordedNode: null })], node()), ['record-node']],
    [
      're-activation records a missing nodeid too',
      worker([pod({ recordedNode: null })], node({ isactive: false })),
      ['activate-node', 'record-node'],
    ],
    [
      'a pod that moved here renames its former node instead of adding one',
      { ...worker([pod()], null), former: node({ nodename: '10.0.0.1' }) },
      ['update-node'],
    ],
    [
      'a node whose pod moved elsewhere is left to it',
      { ...worker([], node()), movedTo: { pod: 'w1', key: '10.0.0.9:5432' } },
      [],
    ],
  ];
  it.each(cases)('%s', (_name, observed, expected) => {
    expect(kinds(observed)).toEqual(expected);
  });

  it('says why in one sentence, and warns of an address claimed twice', () => {
    const d = decideWorker(worker([pod(), pod({ name: 'w2', uid: 'u2' })], null));
    expect(d.summary).toBe('10.0.0.7:5432 is claimed by 2 ready pods (w1, w2): doing nothing');
    expect(d.events?.[0]).toMatchObject({ severity: 'warn', kind: 'address-conflict' });
  });
});

describe('moves', () => {
  const moved = pod({ address: { host: 'new', port: 5432 } });
  const old = node({ nodename: 'old' });
  it('a live pod recorded as a row under another address renames it, unless that address is live', () => {
    expect(recordedCandidate([moved], null)).toBe(4);
    expect(recordedCandidate([moved], node())).toBeNull();
    expect(formerRow('new:5432', old, [moved])?.nodeid).toBe(4);
    expect(formerRow('new:5432', old, [moved, pod({ name: 'w9', address: { host: 'old', port: 5432 } })])).toBeNull();
    expect(formerRow('new:5432', node({ nodename: 'old', groupid: 0 }), [moved])).toBeNull();
  });
  it('the old address sees its node moving to the pod', () => {
    expect(movedTo('old:5432', old, [moved])).toEqual({ pod: 'w1', key: 'new:5432' });
    expect(movedTo('old:5432', old, [{ ...moved, ready: false }])).toBeNull();
  });
  it('the rename is an event, never silent', () => {
    const d = decideWorker({ ...worker([moved], null), key: 'new:5432', former: old });
    expect(d.actions).toEqual([
      { kind: 'update-node', nodeid: 4, from: { host: 'old', port: 5432 }, address: { host: '10.0.0.7', port: 5432 } },
    ]);
    expect(d.events?.[0]).toMatchObject({ severity: 'warn', kind: 'node-renamed' });
  });
});

describe('the single pass', () => {
  const config = citusSyncConfigSchema.parse({ host: 'coord:6432,standby', labelSelector: 'app=w' });
  const observed = (nodes: DistNode[] | null, pods: PodView[]): CitusSyncObserved => ({
    pods,
    podsSynced: true,
    podsError: null,
    nodes,
    coordinatorError: nodes === null ? { kind: 'unavailable', message: 'refused' } : null,
    coordinatorAt: nodes === null ? null : 'coord:6432',
    config,
  });

  it('lists the keys of pods and registered workers, not the coordinator', () => {
    const o = observed(
      [node(), node({ nodeid: 1, groupid: 0, nodename: 'coord', nodeport: 6432 })],
      [pod({ address: { host: 'b', port: 1 } })],
    );
    expect(workerKeys(o)).toEqual(['10.0.0.7:5432', 'b:1']);
  });

  it('registers the coordinator host from the first candidate when group 0 is missing', () => {
    const d = decideCitusSync(observed([], []), 0, config);
    expect(d.actions).toEqual([{ kind: 'set-coordinator-host', host: 'coord', port: 6432 }]);
    const set = decideCitusSync(observed([node({ groupid: 0 })], []), 0, config);
    expect(set.actions).toEqual([]);
  });

  it('publishes each worker joined with its pod and what its reconcile will do', () => {
    const coordinator = node({ nodeid: 1, groupid: 0, nodename: 'coord', nodeport: 6432 });
    const d = decideCitusSync(observed([node({ isactive: false, shards: 2 }), coordinator], [pod()]), 0, config);
    expect(d.publish.workers).toEqual([
      expect.objectContaining({ key, pod: 'w1', nodeid: 4, isactive: false, shards: 2, pending: ['activate-node'] }),
    ]);
    expect(d.summary).toBe('0/1 workers active, 1 to converge');
  });

  it('comes back after the scan interval, so shard counts and drift are read again without a pod event', () => {
    const d = decideCitusSync(observed([], []), 0, { ...config, scanIntervalSeconds: 7 });
    expect(d.requeueAfterMs).toBe(7000);
  });

  it('publishes an unreachable coordinator with its kind', () => {
    const d = decideCitusSync(observed(null, [pod()]), 0, config);
    expect(d.publish.coordinator).toEqual({ reachable: false, at: null, error: 'unavailable: refused' });
    expect(d.actions).toEqual([]);
  });
});

describe('addresses', () => {
  const config = citusSyncConfigSchema.parse({
    host: 'c',
    labelSelector: 'app=w',
    service: 'workers',
    namespace: 'db',
  });
  const base = { metadata: { name: 'w-0', namespace: 'db' }, status: { phase: 'Running', podIP: '10.1.2.3' } };

  it('names a pod through its headless service, its IP, or its annotation', () => {
    expect(podView(base, config).address).toEqual({ host: 'w-0.workers.db.svc.cluster.local', port: 5432 });
    expect(podView(base, { ...config, addressing: 'ip' }).address).toEqual({ host: '10.1.2.3', port: 5432 });
    const annotated = { ...base, metadata: { ...base.metadata, annotations: { 'pgdeck.io/citus-address': 'h:7001' } } };
    expect(podView(annotated, { ...config, addressing: 'annotation' }).address).toEqual({ host: 'h', port: 7001 });
    expect(podView(base, { ...config, addressing: 'annotation' }).addressProblem).toBe(
      'no pgdeck.io/citus-address annotation',
    );
  });

  it('reads host[:port] and [v6]:port, and refuses anything else', () => {
    expect(parseAddress('[fd00::1]:5433', 5432)).toEqual({ host: 'fd00::1', port: 5433 });
    expect(parseAddress('a b:1', 5432)).toBeNull();
    expect(parseAddress('h:70000', 5432)).toBeNull();
  });

  it('refuses bad settings naming the key', () => {
    const r = citusSyncConfigSchema.safeParse({
      host: 'c',
      labelSelector: 'a=b',
      policy: 'delete',
      scanIntervalSeconds: 'two',
    });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.path.join('.')).sort()).toEqual(['policy', 'scanIntervalSeconds']);
  });
});
