import { setTimeout as delay } from 'node:timers/promises';
import { PgLink } from '../adapters/pg.js';
import type { ActContext } from '../kernel/context.js';
import { PgdeckError, errorMessage } from '../kernel/errors.js';
import type { Logger } from '../kernel/logger.js';
import type { FailoverDeps, FailoverMemory } from './deps.js';
import type { Endpoint, FailoverAction, MemberReport, PromoteOptions } from './types.js';

const startTimeoutMs = 120_000;
/** How long a reload of synchronous_standby_names may take before a promotion gives up. */
const syncReloadTimeoutMs = 5000;
/** A demoting primary's fast shutdown turns immediate after this long. */
const demoteStopTimeoutMs = 10_000;

type Ctx = ActContext<FailoverMemory>;

async function publish(deps: FailoverDeps, ctx: Ctx, report: MemberReport): Promise<void> {
  const ttl = deps.session.ttl;
  await deps.session.putLeased(`members/${report.name}`, JSON.stringify(report));
  const serving = report.role === 'primary' && (report.state === 'running' || report.state === 'fenced');
  ctx.remember({ lastReport: report, reportTtl: ttl, ...(serving ? { servedGeneration: report.generation } : {}) });
}

/** Publishes a changed report at once (before a long step or right after a promotion), not next pass. */
async function republish(deps: FailoverDeps, ctx: Ctx, patch: Partial<MemberReport>): Promise<void> {
  const last = ctx.memory.lastReport;
  if (last === null) return;
  await publish(deps, ctx, { ...last, ...patch, reportedAt: Date.now() }).catch(() => undefined);
}

async function ready(deps: FailoverDeps): Promise<boolean> {
  await deps.local.query('SELECT 1');
  return true;
}

async function start(deps: FailoverDeps, ctx: Ctx): Promise<void> {
  try {
    await deps.pg.start(() => ready(deps), startTimeoutMs);
  } catch (error) {
    ctx.remember({ startFailures: ctx.memory.startFailures + 1 });
    throw error;
  }
  ctx.remember({ startFailures: 0 });
}

async function busy(
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

async function firstWrite(
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

async function promote(deps: FailoverDeps, ctx: Ctx, generation: number, options: PromoteOptions): Promise<void> {
  const { catchUpTimeoutMs, syncStandbys } = options;
  const began = Date.now();
  if (syncStandbys !== undefined) await syncStandbysFirst(deps, ctx, syncStandbys);
  let replayed: number | null = -1;
  for (;;) {
    const p = await retrying(() => deps.local.positions());
    const stalled = p.replayedLsn === replayed;
    replayed = p.replayedLsn;
    if (
      p.receivedLsn === null ||
      p.replayedLsn === null ||
      p.replayedLsn >= p.receivedLsn ||
      stalled ||
      Date.now() - began >= catchUpTimeoutMs
    )
      break;
    await delay(10);
  }
  const catchUpWaitMs = Date.now() - began;
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
async function follow(deps: FailoverDeps, ctx: Ctx, from: Endpoint): Promise<void> {
  await deps.pg.stop('fast', 10_000);
  deps.pg.standBy(from);
  await start(deps, ctx);
  ctx.remember({ crashedGeneration: null, demoted: null, promoted: null });
}

async function rejoin(deps: FailoverDeps, ctx: Ctx, from: Endpoint, forceClone: boolean): Promise<void> {
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

/**
 * A fence that holds: postgres is stopped (fast shutdown: every session ends and no transaction
 * commits; immediate after 2 s), since a read-only default is a setting any client can turn off
 * (`BEGIN READ WRITE`). The next pass rejoins it as a replica of the record's primary, or, when the
 * record still names it (an etcd outage that ended), starts it again as that primary: a fence is not
 * a crash, so what it served is forgotten.
 */
async function fence(deps: FailoverDeps, ctx: Ctx, reason: string): Promise<void> {
  const began = Date.now();
  ctx.log.warn(`fencing: ${reason}; stopping postgres`);
  await deps.pg.stop('fast', 2000);
  const fenceMs = Date.now() - began;
  ctx.remember({ servedGeneration: null });
  ctx.log.warn(`fenced: postgres stopped ${fenceMs} ms after the decision`, { fenceMs });
}

/**
 * Best effort, run in the background: a frozen server would hold the promotion for the whole probe
 * timeout, and one that answers is fenced within milliseconds anyway (its own daemon fences it too).
 */
async function remoteFence(deps: FailoverDeps, log: Logger, member: Endpoint): Promise<void> {
  const link = new PgLink(
    { host: member.host, port: member.port, user: deps.config.pgUser, database: 'postgres' },
    deps.config.probeTimeoutMs,
  );
  try {
    await link.fence();
    log.warn(`fenced ${member.name} remotely: its postgres still answered`);
  } catch (error) {
    log.info(`remote fence of ${member.name} not possible (${errorMessage(error)}); it cannot answer writes either`);
  } finally {
    await link.close();
  }
}

async function asLeader(
  deps: FailoverDeps,
  log: Logger,
  puts: Record<string, string>,
  deletes: readonly string[] = [],
): Promise<boolean> {
  const written = await deps.session.putAsLeader(puts, deletes);
  if (!written) log.warn('leadership lost before the write: nothing written');
  return written;
}

/** Writes back each key of the seed that the new etcd cluster lacks (a create-if-absent each), then adopts its id. */
async function reseed(
  deps: FailoverDeps,
  ctx: Ctx,
  action: Extract<FailoverAction, { kind: 'reseed' }>,
): Promise<void> {
  const { session } = deps;
  const { seed, primary } = action;
  if (primary !== null) {
    const puts: Record<string, string> = { initialize: deps.config.node, primary: JSON.stringify(primary.record) };
    if (primary.sync !== null) puts.sync = JSON.stringify(primary.sync);
    await session.createIfAbsent('initialize', puts);
  }
  if (seed.config !== null) await session.createIfAbsent('config', { config: JSON.stringify(seed.config) });
  for (const h of seed.history)
    await session.createIfAbsent(`history/${h.id}`, { [`history/${h.id}`]: JSON.stringify(h) });
  ctx.remember({ seed: { ...seed, clusterId: action.clusterId } });
  ctx.log.warn(`etcd cluster ${action.clusterId} re-seeded from this daemon's memory (was ${seed.clusterId})`, {
    historyEntries: seed.history.length,
    primaryRecord: primary !== null,
  });
}

/** Carries out one decided action; each is idempotent, so a crash between two is repaired next pass. */
export async function actFailover(deps: FailoverDeps, action: FailoverAction, ctx: Ctx): Promise<void> {
  const { session, pg, config } = deps;
  switch (action.kind) {
    case 'publish':
      return publish(deps, ctx, action.report);
    case 'initialize': {
      const now = Date.now();
      const won = await session.createIfAbsent('initialize', {
        initialize: config.node,
        primary: JSON.stringify({ name: config.node, generation: 1, since: now, demoting: null }),
        config: JSON.stringify(action.config),
      });
      if (!won) return;
      if (pg.local().dataDir === 'empty') await pg.initdb();
      await start(deps, ctx);
      return;
    }
    case 'reseed':
      return reseed(deps, ctx, action);
    case 'clone':
      return busy(deps, ctx, 'cloning', async () => {
        await pg.clone(action.from);
        await start(deps, ctx);
      });
    case 'start':
      return start(deps, ctx);
    case 'promote':
      return promote(deps, ctx, action.generation, action);
    case 'first-write': {
      const now = Date.now();
      return firstWrite(deps, ctx, action.generation, now, now, 0);
    }
    case 'follow':
      pg.follow(action.to);
      return;
    case 'fence':
      return fence(deps, ctx, action.reason);
    case 'unfence':
      return deps.local.unfence();
    case 'demote': {
      await deps.local.checkpoint();
      const cp = await pg.shutDownToCheckpoint(demoteStopTimeoutMs);
      if (!cp.cleanShutdown) {
        // It crashed before its shutdown checkpoint: its last checkpoint is not where its WAL ends.
        ctx.log.warn(`postgres crashed while demoting for a switchover (generation ${action.generation})`);
        ctx.remember({ crashedGeneration: action.generation });
        await republish(deps, ctx, { state: 'crashed', crashedGeneration: action.generation });
        return;
      }
      const demoted = { generation: action.generation, lsn: cp.lsn, timeline: cp.timeline };
      ctx.remember({ demoted });
      await republish(deps, ctx, { state: 'stopped', demoted });
      await pg.stop('fast', demoteStopTimeoutMs);
      return;
    }
    case 'rejoin':
      return action.rewind ? rejoin(deps, ctx, action.from, false) : follow(deps, ctx, action.from);
    case 'reclone':
      return rejoin(deps, ctx, action.from, true);
    case 'set-sync-standbys': {
      pg.setSyncStandbys(action.names);
      await delay(50);
      const s = await deps.local.status();
      ctx.remember({ ssnLsn: s.currentLsn });
      return;
    }
    case 'write-sync':
      return session.put('sync', JSON.stringify(action.record));
    case 'write-optime':
      return session.put('optime', JSON.stringify({ lsn: action.lsn }));
    case 'remember-crash':
      ctx.remember({ crashedGeneration: action.generation });
      return;
    case 'campaign':
      session.campaignFor(config.node);
      return;
    case 'resign':
      return session.resign();
    case 'depose-leader':
      if (await session.deleteIfCreated(action.key, action.createRevision))
        ctx.log.warn(`deposed leader ${action.name}: ${action.reason}`, { key: action.key });
      return;
    case 'remote-fence':
      ctx.spawn('remote-fence', () => remoteFence(deps, ctx.log, action.member));
      return;
    case 'set-primary': {
      const puts: Record<string, string> = { primary: JSON.stringify(action.record) };
      if (action.history !== null) puts[`history/${action.history.id}`] = JSON.stringify(action.history);
      if (action.resetSync) puts.sync = JSON.stringify({ primary: action.record.name, members: [] });
      const written = await asLeader(deps, ctx.log, puts, action.clearSwitchover ? ['switchover'] : []);
      if (written && action.promote !== undefined) await promote(deps, ctx, action.record.generation, action.promote);
      return;
    }
    case 'record-history':
      await asLeader(deps, ctx.log, { [`history/${action.entry.id}`]: JSON.stringify(action.entry) });
      return;
    case 'clear-switchover':
      await asLeader(
        deps,
        ctx.log,
        action.history === null ? {} : { [`history/${action.history.id}`]: JSON.stringify(action.history) },
        ['switchover'],
      );
      return;
    case 'clear-reinit':
      return session.delete(`reinit/${action.name}`);
  }
}
