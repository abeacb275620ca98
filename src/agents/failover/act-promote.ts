import { setTimeout as delay } from 'node:timers/promises';
import { PgdeckError } from '../kernel/errors.js';
import { republish, type FailoverActContext as Ctx } from './act-report.js';
import type { FailoverDeps } from './deps.js';
import type { PromoteOptions } from './types.js';

/** How long a reload of synchronous_standby_names may take before a promotion gives up. */
const syncReloadTimeoutMs = 5000;

/** Retries a local query through a connection reset (promotion restarts the walreceiver and may drop links). */
async function retrying<T>(work: () => Promise<T>, forMs = 5000): Promise<T> {
  const deadline = Date.now() + forMs;
  for (;;) {
    try {
      return await work();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await delay(5);
    }
  }
}

export async function firstWrite(
  deps: FailoverDeps,
  ctx: Ctx,
  generation: number,
  began: number,
  promotedAt: number,
  catchUpWaitMs: number,
): Promise<void> {
  if ((await retrying(() => deps.local.status())).readOnly) await deps.local.unfence();
  await retrying(() => deps.local.firstWrite());
  const firstWriteAt = Date.now();
  const promoted = { generation, promotedAt, firstWriteAt, catchUpWaitMs };
  ctx.remember({ promoted, crashedGeneration: null, demoted: null });
  ctx.log.info(
    `primary of generation ${generation}: first write ${firstWriteAt - began} ms after the decision reached this node`,
    { generation, catchUpWaitMs },
  );
  await republish(deps, ctx, {
    role: 'primary',
    state: 'running',
    promoted,
    crashedGeneration: null,
    demoted: null,
    generation,
  });
}

/**
 * synchronous_standby_names in force on this standby before it is promoted: the reload reaches the
 * backends (and the checkpointer, which publishes it to them) asynchronously, so wait until a session
 * of this server reports the new value.
 */
async function syncStandbysFirst(deps: FailoverDeps, ctx: Ctx, names: readonly string[]): Promise<void> {
  const wanted = deps.pg.setSyncStandbys(names);
  const deadline = Date.now() + syncReloadTimeoutMs;
  for (;;) {
    const res = await retrying(() =>
      deps.local.query<{ ssn: string }>(`SELECT current_setting('synchronous_standby_names') AS ssn`),
    );
    if (res.rows[0]?.ssn === wanted) break;
    if (Date.now() > deadline)
      throw new PgdeckError('timeout', `synchronous_standby_names did not become ${wanted} before the promotion`);
    await delay(5);
  }
  ctx.remember({ ssnLsn: null });
}

/** How long a promotion waits for a reconnecting walreceiver to give up (see `promotionPositions`). */
const streamPendingMaxMs = 30;

type Positions = Awaited<ReturnType<FailoverDeps['local']['promotionPositions']>>;

/**
 * Promotes this standby once it has replayed what it received (or replay stalls, or the catch-up
 * timeout passes) and its startup process is not waiting on a walreceiver that is reconnecting (for
 * at most streamPendingMaxMs). `began`: when the decision reached this node; `first`: positions
 * already read for it (read while the record was written, so the promotion does not wait for both).
 */
export async function promote(
  deps: FailoverDeps,
  ctx: Ctx,
  generation: number,
  options: PromoteOptions,
  began = Date.now(),
  first: Positions | null = null,
): Promise<void> {
  const { catchUpTimeoutMs, syncStandbys } = options;
  const catchUpFrom = Date.now();
  if (syncStandbys !== undefined) await syncStandbysFirst(deps, ctx, syncStandbys);
  let next = syncStandbys === undefined ? first : null;
  let replayed: number | null = -1;
  const caughtUp = (p: Positions): boolean => {
    const stalled = p.replayedLsn === replayed;
    replayed = p.replayedLsn;
    return p.receivedLsn === null || p.replayedLsn === null || p.replayedLsn >= p.receivedLsn || stalled;
  };
  let pendingSince: number | null = null;
  for (;;) {
    const p = next ?? (await retrying(() => deps.local.promotionPositions()));
    next = null;
    const now = Date.now();
    pendingSince = p.streamPending ? (pendingSince ?? now) : null;
    if (now - catchUpFrom >= catchUpTimeoutMs) break;
    if (caughtUp(p) && (pendingSince === null || now - pendingSince >= streamPendingMaxMs)) break;
    await delay(p.streamPending ? 2 : 10);
  }
  const catchUpWaitMs = Date.now() - catchUpFrom;
  deps.pg.promote();
  const deadline = Date.now() + 60_000;
  while ((await retrying(() => deps.local.positions())).inRecovery) {
    if (Date.now() > deadline)
      throw new PgdeckError('timeout', 'promotion did not finish within 60 s; see the postgres log');
    await delay(5);
  }
  await firstWrite(deps, ctx, generation, began, Date.now(), catchUpWaitMs);
}

/**
 * The promotion that follows a primary record written for this node: the standby's positions are
 * read while the record is written, and nothing is promoted unless the write landed.
 */
export async function promoteOnceWritten(
  deps: FailoverDeps,
  ctx: Ctx,
  written: Promise<boolean>,
  generation: number,
  options: PromoteOptions,
): Promise<void> {
  const began = Date.now();
  const [landed, first] = await Promise.all([written, deps.local.promotionPositions().catch(() => null)]);
  if (landed) await promote(deps, ctx, generation, options, began, first);
}
