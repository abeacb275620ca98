import { setTimeout as delay } from 'node:timers/promises';
import { PgLink } from '../adapters/pg.js';
import { errorMessage } from '../kernel/errors.js';
import type { Logger } from '../kernel/logger.js';
import { firstWrite, promote, promoteOnceWritten } from './act-promote.js';
import { publish, republish, type FailoverActContext as Ctx } from './act-report.js';
import { busy, follow, rejoin, start } from './act-rejoin.js';
import { recordNamesThisNode, type FailoverDeps } from './deps.js';
import type { Endpoint, FailoverAction } from './types.js';

/** A demoting primary's fast shutdown turns immediate after this long. */
const demoteStopTimeoutMs = 10_000;
/** How long a stopped postmaster's exit status may take to reach this process. */
const exitSeenWithinMs = 200;

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

/** A switchover's step from a demoting record: written only if the record is still the one decided on. */
async function unchangedSince(
  deps: FailoverDeps,
  log: Logger,
  revision: number,
  puts: Record<string, string>,
  deletes: readonly string[],
  leader: boolean,
): Promise<boolean> {
  const written = await deps.session.putIfRevision('primary', revision, puts, deletes, leader);
  if (!written) log.info('the primary record changed (or leadership was lost) before the write: nothing written');
  return written;
}

/**
 * A switchover candidate's take-over write lost the race to the leader's write of the same step: when
 * the record now names this node at that generation, it promotes now rather than a pass later.
 */
async function promotedByLeader(deps: FailoverDeps, log: Logger, generation: number): Promise<boolean> {
  const promoted = await recordNamesThisNode(deps, generation).catch(() => false);
  if (promoted) log.info(`the leader wrote the promotion of ${deps.config.node} first; promoting it in this pass`);
  return promoted;
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
      // Only shortens the shutdown checkpoint: when it fails (postgres died under it), the shutdown
      // below tells a crash from a clean stop in this pass, not after a failed pass's backoff.
      await deps.local.checkpoint().catch(() => undefined);
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
      if ((await pg.killed(exitSeenWithinMs)) === true) {
        // Killed after its checkpoint: its WAL senders may not have sent it, and the candidate would wait in vain.
        ctx.log.warn(`postgres was killed after its shutdown checkpoint (generation ${action.generation})`);
        ctx.remember({ demoted: null, crashedGeneration: action.generation });
        await republish(deps, ctx, { state: 'crashed', demoted: null, crashedGeneration: action.generation });
      }
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
      const deletes = action.clearSwitchover ? ['switchover'] : [];
      const written =
        action.expectRevision === undefined
          ? asLeader(deps, ctx.log, puts, deletes)
          : unchangedSince(deps, ctx.log, action.expectRevision, puts, deletes, action.byCandidate !== true);
      if (action.promote === undefined) await written;
      else {
        const landed =
          action.byCandidate === true
            ? written.then((ok) => ok || promotedByLeader(deps, ctx.log, action.record.generation))
            : written;
        await promoteOnceWritten(deps, ctx, landed, action.record.generation, action.promote);
      }
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
