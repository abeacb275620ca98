import { describe, expect, it } from 'vitest';
import { writeCopies } from '../../../src/agents/failover/decide/write-copies.js';
import type { MemberReport } from '../../../src/agents/failover/types.js';
import { actionsOf, decide } from '../../fixtures/failover-decide.js';
import {
  GENERATION,
  NOW,
  dynamicConfig,
  failoverConfig,
  observed,
  primaryRecord,
  report,
  reports,
  writableStatus,
  type ObservedOverrides,
} from '../../fixtures/failover-observed.js';

const NEXT = GENERATION + 1;
type Replication = MemberReport['replication'];
const streaming = (name: string, syncState: string): Replication[number] => ({
  name,
  state: 'streaming',
  syncState,
  flushLsn: 2000,
});

/** pg1 serves as the record's primary in synchronous mode (strict or not), pg0 and pg2 as given. */
function pg1Serving(opts: {
  strict: boolean;
  replication: Replication;
  ssn: readonly string[];
  record: readonly string[];
  standbys?: Parameters<typeof reports>[0];
}): ObservedOverrides {
  return {
    cluster: {
      primary: primaryRecord({ name: 'pg1', generation: NEXT }),
      members: reports({ ...opts.standbys, pg1: { role: 'primary', state: 'running', generation: NEXT } }),
      config: dynamicConfig({ synchronousMode: true, synchronousStrict: opts.strict }),
      sync: { primary: 'pg1', members: opts.record },
    },
    local: {
      dataDir: 'primary',
      following: null,
      syncStandbyNames: opts.ssn,
      status: writableStatus({ replication: opts.replication }),
    },
    memory: {
      ssnLsn: 1000,
      promoted: { generation: NEXT, promotedAt: NOW - 1000, firstWriteAt: NOW - 900, catchUpWaitMs: 0 },
    },
  };
}

const ssnChange = (o: ObservedOverrides): readonly string[] | null =>
  actionsOf(decide(observed(o), failoverConfig({ node: 'pg1' })), 'set-sync-standbys')[0]?.names ?? null;

describe('decideFailover: strict synchronous mode (Patroni synchronous_mode_strict)', () => {
  const gone = { pg0: null, pg2: null };

  it.each([
    { strict: true, names: ['*'] },
    { strict: false, names: [] },
  ])(
    'strict $strict: with the last synchronous standby gone, synchronous_standby_names becomes $names',
    ({ strict, names }) => {
      expect(ssnChange(pg1Serving({ strict, replication: [], ssn: ['pg2'], record: [], standbys: gone }))).toEqual(
        names,
      );
    },
  );

  it('takes the standby out of the sync record first, synchronous_standby_names after (strict too)', () => {
    const d = decide(
      observed(pg1Serving({ strict: true, replication: [], ssn: ['pg2'], record: ['pg2'], standbys: gone })),
      failoverConfig({ node: 'pg1' }),
    );

    expect(actionsOf(d, 'write-sync').map((a) => a.record.members)).toEqual([[]]);
    expect(actionsOf(d, 'set-sync-standbys')).toEqual([]);
  });

  it('keeps `*` while no standby streams (commits keep waiting)', () => {
    expect(ssnChange(pg1Serving({ strict: true, replication: [], ssn: ['*'], record: [], standbys: gone }))).toBeNull();
  });

  it('names a standby that streams again in place of `*`, and adds it to the record once it acknowledges', () => {
    const back = pg1Serving({ strict: true, replication: [streaming('pg2', 'sync')], ssn: ['*'], record: [] });
    expect(ssnChange(back)).toEqual(['pg2']);

    const named = pg1Serving({ strict: true, replication: [streaming('pg2', 'sync')], ssn: ['pg2'], record: [] });
    const d = decide(observed(named), failoverConfig({ node: 'pg1' }));
    expect(actionsOf(d, 'write-sync').map((a) => a.record.members)).toEqual([['pg2']]);
  });

  it('publishes that writes wait (strict) or have a single copy (not strict)', () => {
    const wait = decide(
      observed(pg1Serving({ strict: true, replication: [], ssn: ['*'], record: [], standbys: gone })),
      failoverConfig({ node: 'pg1' }),
    );
    expect(wait.publish.writes).toMatchObject({ mode: 'strict', synchronous: 0, streaming: 0 });
    expect(wait.publish.writes?.warning).toMatch(/wait: no synchronous standby/);

    const single = decide(
      observed(pg1Serving({ strict: false, replication: [], ssn: [], record: [], standbys: gone })),
      failoverConfig({ node: 'pg1' }),
    );
    expect(single.publish.writes).toMatchObject({ mode: 'synchronous', synchronous: 0 });
    expect(single.publish.writes?.warning).toMatch(/single copy/);
  });
});

describe('writeCopies: where the primary’s writes live, in every mode', () => {
  const primary = (replication: Replication): MemberReport =>
    report('pg0', { role: 'primary', state: 'running', replication });
  const cases = [
    { name: 'async, one standby streaming', sync: false, strict: false, rows: [streaming('pg1', 'async')], warn: null },
    { name: 'async, no standby', sync: false, strict: false, rows: [], warn: /single copy: no standby streams/ },
    { name: 'sync, one sync standby', sync: true, strict: false, rows: [streaming('pg1', 'sync')], warn: null },
    { name: 'sync, quorum standby', sync: true, strict: false, rows: [streaming('pg1', 'quorum')], warn: null },
    {
      name: 'sync, only async standbys',
      sync: true,
      strict: false,
      rows: [streaming('pg1', 'async'), streaming('pg2', 'potential')],
      warn: /single copy: no synchronous standby/,
    },
    { name: 'strict, none', sync: true, strict: true, rows: [], warn: /wait/ },
    { name: 'strict ignored without sync', sync: false, strict: true, rows: [streaming('pg1', 'async')], warn: null },
  ] as const;

  it.each(cases)('$name', ({ sync, strict, rows, warn }) => {
    const copies = writeCopies(dynamicConfig({ synchronousMode: sync, synchronousStrict: strict }), primary(rows));

    expect(copies?.streaming).toBe(rows.length);
    if (warn === null) expect(copies?.warning).toBeNull();
    else expect(copies?.warning).toMatch(warn);
  });

  it('is null without a running primary report', () => {
    expect(writeCopies(dynamicConfig(), undefined)).toBeNull();
    expect(writeCopies(dynamicConfig(), report('pg0', { role: 'primary', state: 'crashed' }))).toBeNull();
  });
});

describe('decideFailover: promotion in strict synchronous mode', () => {
  const promoting = (strict: boolean): ObservedOverrides => ({
    cluster: {
      primary: primaryRecord({ name: 'pg1', generation: NEXT }),
      members: reports({ pg0: null }),
      config: dynamicConfig({ synchronousMode: true, synchronousStrict: strict }),
      sync: { primary: 'pg1', members: [] },
    },
  });

  it('promotes with any standby already synchronous, so no commit returns before a standby holds it', () => {
    const [promote] = actionsOf(decide(observed(promoting(true))), 'promote');
    expect(promote).toMatchObject({ generation: NEXT, syncStandbys: ['*'] });
  });

  it('leaves synchronous_standby_names alone when synchronous mode is not strict', () => {
    const [promote] = actionsOf(decide(observed(promoting(false))), 'promote');
    expect(promote).toBeDefined();
    expect(promote?.syncStandbys).toBeUndefined();
  });
});
