import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import type { CitusSyncState } from '../../src/agents/citus-sync/types.js';
import { AgentStore } from '../../src/agents/kernel/store.js';
import { NOW } from '../fixtures/ui/failover-state.js';
import { selectRow, showConsole } from './console-harness.js';

afterEach(() => cleanup());

const state: CitusSyncState = {
  coordinator: { reachable: true, at: '10.0.0.1:5432', error: null },
  pods: { synced: true, error: null },
  policy: 'drain',
  addressing: 'dns',
  namespace: 'db',
  labelSelector: 'app=citus-worker',
  unaddressed: [],
  workers: [
    {
      key: 'w-0.workers.db.svc.cluster.local:5432',
      pod: 'w-0',
      phase: 'Running',
      ready: true,
      deleting: false,
      address: 'w-0.workers.db.svc.cluster.local:5432',
      nodeid: 2,
      isactive: true,
      shouldhaveshards: true,
      shards: 16,
      pending: [],
      summary: 'node 2 active for pod w-0',
    },
    {
      key: 'w-1.workers.db.svc.cluster.local:5432',
      pod: 'w-1',
      phase: 'Running',
      ready: false,
      deleting: true,
      address: 'w-1.workers.db.svc.cluster.local:5432',
      nodeid: 3,
      isactive: true,
      shouldhaveshards: true,
      shards: 16,
      pending: ['drain-node', 'remove-node', 'release-finalizer'],
      summary: 'pod w-1 is being deleted: draining 16 shard placement(s) off node 3, then removing it',
    },
  ],
};

function citusStore(): AgentStore {
  const store = new AgentStore('citus-sync', {
    now: () => NOW,
    source: { mode: 'attached', url: 'http://127.0.0.1:8010', connected: true, stale: false },
    identity: { kind: 'citus-sync', entity: 'db/app=citus-worker', instance: 'db/r1', label: 'r1' },
  });
  store.update({
    state,
    summary: '2/2 workers active, 1 to converge',
    leadership: { leading: true, holder: 'db/r1' },
    reconciles: {
      total: 2,
      counts: { pending: 0, ok: 1, retrying: 1, 'gave-up': 0 },
      omitted: 0,
      keys: [
        {
          key: 'w-1.workers.db.svc.cluster.local:5432',
          phase: 'retrying',
          summary: 'failed',
          attempts: 2,
          lastError: { kind: 'precondition', message: 'is a metadata node, but is out of sync' },
        },
      ],
    },
    actions: ['drain', 'activate', 'remove'].map((name) => ({ name, description: name, dangerous: true, args: '' })),
    health: { status: 'ok', live: true, ready: true, passes: 3, consecutiveErrors: 0, dependencies: {} },
  });
  return store;
}

describe('Citus workers view', () => {
  it(':citus shows pg_dist_node joined with the pods: nodeid, active, shards, drain state, last error', async () => {
    const c = await showConsole([{ reader: citusStore() }], { view: 'citus' });
    const frame = c.frame();
    expect(frame).toMatch(/Citus workers/);
    expect(frame).toContain('db/app=citus-worker: coordinator 10.0.0.1:5432, policy drain, leader db/r1');
    expect(frame).toMatch(/WORKER\s+POD\s+PHASE\s+READY\s+NODEID\s+ACTIVE\s+SHARDS\s+DRAIN/);
    expect(frame).toMatch(/w-0\.workers\.db\.svc\.cluster\.local:5432\s+w-0\s+Running\s+yes\s+2\s+yes\s+16\s+-/);
    expect(frame).toMatch(
      /w-1\.workers\.db\.svc\.cluster\.local:5432\s+w-1\s+Terminating\s+no\s+3\s+yes\s+16\s+draining.*precondition: is a metadata node/,
    );
  });

  it('d on a worker asks for the drain with its preview', async () => {
    const c = await showConsole([{ reader: citusStore() }], { view: 'citus' });
    await selectRow(c, /w-0\./);
    await c.press('d');
    expect(c.frame()).toMatch(/drain/i);
    expect(c.frame()).toMatch(/worker w-0\.workers\.db\.svc\.cluster\.local:5432/);
  });
});
