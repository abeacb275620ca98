import type { ActContext } from '../kernel/context.js';
import type { FailoverDeps, FailoverMemory } from './deps.js';
import type { MemberReport } from './types.js';

export type FailoverActContext = ActContext<FailoverMemory>;
type Ctx = FailoverActContext;

export async function publish(deps: FailoverDeps, ctx: Ctx, report: MemberReport): Promise<void> {
  const ttl = deps.session.ttl;
  await deps.session.putLeased(`members/${report.name}`, JSON.stringify(report));
  const serving = report.role === 'primary' && (report.state === 'running' || report.state === 'fenced');
  ctx.remember({ lastReport: report, reportTtl: ttl, ...(serving ? { servedGeneration: report.generation } : {}) });
}

/** Publishes a changed report at once (before a long step or right after a promotion), not next pass. */
export async function republish(deps: FailoverDeps, ctx: Ctx, patch: Partial<MemberReport>): Promise<void> {
  const last = ctx.memory.lastReport;
  if (last === null) return;
  await publish(deps, ctx, { ...last, ...patch, reportedAt: Date.now() }).catch(() => undefined);
}
