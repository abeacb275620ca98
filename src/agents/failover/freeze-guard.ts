import type { WatchContext } from '../kernel/context.js';
import { errorMessage } from '../kernel/errors.js';
import { recordNamesThisNode, type FailoverDeps, type FailoverMemory } from './deps.js';

/** How often the freeze guard's timer ticks. */
const freezeCheckEveryMs = 50;
/** A gap between two ticks longer than this share of the lease TTL means the process was frozen. */
const frozenLeaseShare = 0.6;

/**
 * A software watchdog: a timer that notices this process was frozen (SIGSTOP, a stalled VM) for longer
 * than the lease allows. A failover may have happened meanwhile, so before its next pass it asks etcd
 * (one read, bounded by the call timeout): if the record still names this node at the generation it
 * serves, its leader kept it (a frozen daemon beside a healthy postgres is no reason to fail over) and
 * postgres keeps running; otherwise, or if etcd cannot say, a writable primary is stopped at once
 * (SIGQUIT: no SQL round trip for a client to slip a commit through). The next pass rejoins it, or, if
 * it is still the primary, has the leader fail over or restart it.
 */
export function guardAgainstFreeze(deps: FailoverDeps, ctx: WatchContext<FailoverMemory>): void {
  ctx.spawn('freeze-guard', async (signal) => {
    let last = ctx.clock.now();
    while (!signal.aborted) {
      await ctx.clock.sleep(freezeCheckEveryMs, signal);
      const now = ctx.clock.now();
      const gap = now - last;
      last = now;
      const report = ctx.memory.lastReport;
      const ttl = deps.session.ttl;
      const frozen = gap >= ttl * 1000 * frozenLeaseShare;
      if (signal.aborted || !frozen || report === null || report.role !== 'primary' || report.state !== 'running')
        continue;
      if (await recordNamesThisNode(deps, report.generation).catch(() => false)) {
        ctx.log.warn(
          `this daemon was frozen for ${gap} ms; etcd still names it primary of generation ${report.generation}: postgres keeps running`,
        );
      } else {
        ctx.log.warn(
          `fencing: this daemon was frozen for ${gap} ms, long enough for its ${ttl} s lease to lapse, and etcd no longer confirms it as primary; immediate shutdown`,
        );
        await deps.pg
          .stop('immediate', 5000)
          .catch((error: unknown) => ctx.log.warn(`immediate shutdown failed: ${errorMessage(error)}`));
      }
      last = ctx.clock.now();
      ctx.wake();
    }
  });
}
