import { describe, expect, it } from 'vitest';
import type { FailoverAction } from '../../../src/agents/failover/types.js';
import { actionCases, type ActionCase } from '../../fixtures/failover-action-cases.js';
import { decide, kinds } from '../../fixtures/failover-decide.js';
import { failoverConfig, observed } from '../../fixtures/failover-observed.js';

type Row = ActionCase<FailoverAction['kind']> & { readonly kind: FailoverAction['kind'] };

const rows: Row[] = Object.entries(actionCases).flatMap(([kind, cases]) =>
  cases.map((c: ActionCase<FailoverAction['kind']>) => ({ ...c, kind: kind as FailoverAction['kind'] })),
);

describe('decideFailover: every action kind, table-driven', () => {
  it('has at least one row for every kind of FailoverAction', () => {
    const empty = Object.entries(actionCases)
      .filter(([, cases]) => cases.length === 0)
      .map(([kind]) => kind);
    expect(empty).toEqual([]);
    expect(new Set(rows.map((r) => r.kind)).size).toBe(Object.keys(actionCases).length);
  });

  it.each(rows)('$kind: $name', (row) => {
    const d = decide(observed(row.observed), failoverConfig({ node: row.node ?? 'pg1' }));

    const found = d.actions.filter((a) => a.kind === row.kind);
    expect(found, `one ${row.kind} among ${kinds(d).join(', ')}`).toHaveLength(1);
    expect(found[0]).toMatchObject(row.action);
    if (typeof row.summary === 'string') expect(d.summary).toBe(row.summary);
    else expect(d.summary).toMatch(row.summary);
    if (row.problem !== undefined) expect(d.publish.lastProblem).toBe(row.problem);
    if (row.event !== undefined) expect(d.events?.map((e) => e.kind)).toContain(row.event);
  });
});
