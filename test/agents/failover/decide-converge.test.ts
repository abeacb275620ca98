import { describe, expect, it } from 'vitest';
import { actionsOf, decide, single } from '../../fixtures/failover-decide.js';
import {
  GENERATION,
  dynamicConfig,
  endpoint,
  observed,
  primaryRecord,
  replicaStatus,
  reports,
  writableStatus,
} from '../../fixtures/failover-observed.js';

describe('decideFailover: the local server converges on the primary record', () => {
  it('promotes itself when named primary while still in recovery', () => {
    const record = primaryRecord({ name: 'pg1', generation: GENERATION + 1 });
    const d = decide(
      observed({
        cluster: { primary: record, members: reports({ pg0: null, pg1: { generation: GENERATION + 1 } }) },
        local: { following: 'pg0', status: replicaStatus() },
      }),
    );

    expect(single(d, 'promote')).toEqual({
      kind: 'promote',
      generation: GENERATION + 1,
      catchUpTimeoutMs: dynamicConfig().failoverTimeoutMs,
    });
    expect(actionsOf(d, 'set-primary')).toEqual([]);
    expect(actionsOf(d, 'fence')).toEqual([]);
    // Promotion runs first; the changed report goes out after it, not an etcd round trip before.
    expect(d.actions.map((a) => a.kind)).toEqual(['promote', 'publish']);
  });

  it('leaves a fenced (read-only) former primary alone rather than fencing it again', () => {
    const d = decide(
      observed({ local: { dataDir: 'primary', following: null, status: writableStatus({ readOnly: true }) } }),
    );

    expect(actionsOf(d, 'fence')).toEqual([]);
    expect(single(d, 'rejoin').from).toEqual(endpoint('pg0'));
  });
});
