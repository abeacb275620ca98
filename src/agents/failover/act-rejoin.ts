import { PgLink } from '../adapters/pg.js';
import { errorMessage } from '../kernel/errors.js';
import { republish, type FailoverActContext as Ctx } from './act-report.js';
import type { FailoverDeps } from './deps.js';
import type { Endpoint } from './types.js';

const startTimeoutMs = 120_000;

async function ready(deps: FailoverDeps): Promise<boolean> {
  await deps.local.query('SELECT 1');
  return true;
}

export async function start(deps: FailoverDeps, ctx: Ctx): Promise<void> {
  try {
    await deps.pg.start(() => ready(deps), startTimeoutMs);
  } catch (error) {
    ctx.remember({ startFailures: ctx.memory.startFailures + 1 });
    throw error;
  }
  ctx.remember({ startFailures: 0 });
}

export async function busy(
  deps: FailoverDeps,
  ctx: Ctx,
  what: 'cloning' | 'rewinding',
  work: () => Promise<void>,
): Promise<void> {
  ctx.remember({ busy: what });
  await republish(deps, ctx, { state: what });
  try {
    await work();
  } finally {
    ctx.remember({ busy: null });
  }
}

/**
 * pg_rewind takes the source's timeline from its pg_control, which a promotion updates only at its
 * first checkpoint. Before that it finds "the same timeline", rewinds nothing, and the former primary,
 * one WAL record past the fork (its shutdown checkpoint), can never stream from the new one.
 */
async function checkpointedSource(deps: FailoverDeps, ctx: Ctx, from: Endpoint): Promise<void> {
  const link = new PgLink({ host: from.host, port: from.port, user: deps.config.pgUser, database: 'postgres' }, 60_000);
  try {
    if (await link.checkpointOnCurrentTimeline()) return;
    ctx.log.info(`${from.name} has not checkpointed since its promotion: CHECKPOINT there before pg_rewind`);
    await link.checkpoint();
  } finally {
    await link.close();
  }
}

/** A server that shut down cleanly before the fork restarts as a replica of `from` as it is. */
export async function follow(deps: FailoverDeps, ctx: Ctx, from: Endpoint): Promise<void> {
  await deps.pg.stop('fast', 10_000);
  deps.pg.standBy(from);
  await start(deps, ctx);
  ctx.remember({ crashedGeneration: null, demoted: null, promoted: null });
}

export async function rejoin(deps: FailoverDeps, ctx: Ctx, from: Endpoint, forceClone: boolean): Promise<void> {
  if (!forceClone) await checkpointedSource(deps, ctx, from);
  await busy(deps, ctx, forceClone ? 'cloning' : 'rewinding', async () => {
    await deps.pg.stop('fast', 10_000);
    if (forceClone) await deps.pg.clone(from);
    else {
      try {
        await deps.pg.rewind(from);
      } catch (error) {
        ctx.log.warn(`pg_rewind failed, re-cloning from ${from.name}: ${errorMessage(error)}`);
        await deps.pg.clone(from);
      }
    }
    try {
      await start(deps, ctx);
    } catch (error) {
      ctx.log.warn(
        `${deps.config.node} did not start after pg_rewind, re-cloning from ${from.name}: ${errorMessage(error)}`,
      );
      await deps.pg.stop('immediate', 5000);
      await deps.pg.clone(from);
      await start(deps, ctx);
    }
    ctx.remember({ crashedGeneration: null, demoted: null, promoted: null });
  });
}
