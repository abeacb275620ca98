import type { WatchContext } from '../kernel/context.js';
import { errorMessage } from '../kernel/errors.js';
import { peersConfirmEtcdDown, type FailoverDeps, type FailoverMemory } from './deps.js';

/** How often the lease guard's timer ticks. */
const leaseCheckEveryMs = 50;
/** The guard stops a primary this long before its lease could lapse (the pass's own fence comes earlier). */
const leaseGuardMarginMs = 150;
/** How long the guard asks the peers, at its deadline, whether they cannot reach etcd either. */
const peerAskMs = 100;
/** A gap between two ticks this long means the process itself was frozen: the freeze guard's case. */
const frozenTickMs = 500;

/**
 * The fence's deadline, kept whatever a pass is doing. A pass decides the fence at the end of its
 * observe, and a pass that waits on etcd's and the peers' timeouts ends up to a second late: the
 * lease could lapse and another server be promoted while this one still takes writes. So a timer
 * stops a writable primary (SIGQUIT) once its lease has gone unrenewed to within 150 ms of its TTL,
 * unless every peer daemon says it cannot reach etcd either (failsafe: nobody can be promoted): the
 * peers' last answers, or, when those do not all say so, their answers asked now (within 100 ms; the
 * peers of an etcd outage may have noticed it only since the last pass). Silence that began before a
 * freeze of this process is left to the freeze guard, which first asks etcd.
 */
export function guardLease(deps: FailoverDeps, ctx: WatchContext<FailoverMemory>): void {
  ctx.spawn('lease-guard', async (signal) => {
    let last = ctx.clock.now();
    let frozenAt = Number.NEGATIVE_INFINITY;
    while (!signal.aborted) {
      await ctx.clock.sleep(leaseCheckEveryMs, signal);
      const now = ctx.clock.now();
      if (now - last >= frozenTickMs) frozenAt = now;
      last = now;
      const report = ctx.memory.lastReport;
      const { renewedAt } = deps.session.snapshot();
      if (signal.aborted || report === null || report.role !== 'primary' || report.state !== 'running') continue;
      if (renewedAt === null || renewedAt <= frozenAt) continue;
      const silentMs = now - renewedAt;
      if (silentMs < deps.session.ttl * 1000 - leaseGuardMarginMs) continue;
      const peers = [...deps.peers.values()];
      if (peers.length > 0 && peers.every((p) => p.view.apiEtcdReachable === false)) continue;
      if (deps.pg.local().pid === null || (await peersConfirmEtcdDown(deps, peerAskMs))) continue;
      ctx.log.warn(
        `fencing: no lease renewal for ${silentMs} ms, ${leaseGuardMarginMs} ms before its ${deps.session.ttl} s lease could lapse, and not every peer confirms etcd is down; immediate shutdown`,
      );
      await deps.pg
        .stop('immediate', 5000)
        .catch((error: unknown) => ctx.log.warn(`immediate shutdown failed: ${errorMessage(error)}`));
      ctx.wake();
    }
  });
}
