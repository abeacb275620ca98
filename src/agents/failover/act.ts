import { setTimeout as delay } from 'node:timers/promises';
import { PgLink } from '../adapters/pg.js';
import { PgdeckError, errorMessage } from '../kernel/errors.js';
import type { FailoverDeps } from './deps.js';
import type { DaemonMemory, Endpoint, FailoverAction, MemberReport } from './types.js';

const startTimeoutMs = 120_000;

function remember(deps: FailoverDeps, patch: Partial<DaemonMemory>): void {
  deps.memory = { ...deps.memory, ...patch };
}

async function publish(deps: FailoverDeps, report: MemberReport): Promise<void> {
  await deps.session.putLeased(`members/${report.name}`, JSON.stringify(report));
  const serving = report.role === 'primary' && (report.state === 'running' || report.state === 'fenced');
  remember(deps, serving ? { lastReport: report, servedGeneration: report.generation } : { lastReport: report });
}

/** Publishes a changed report at once (before a long step or right after a promotion), not next pass. */
async function republish(deps: FailoverDeps, patch: Partial<MemberReport>): Promise<void> {
  const last = deps.memory.lastReport;
  if (last === null) return;
  await publish(deps, { ...last, ...patch, reportedAt: Date.now() }).catch(() => undefined);
}

async function ready(deps: FailoverDeps): Promise<boolean> {
  await deps.local.query('SELECT 1');
  return true;
}

async function start(deps: FailoverDeps): Promise<void> {
  try {
    await deps.pg.start(() => ready(deps), startTimeoutMs);
  } catch (error) {
    remember(deps, { startFailures: deps.memory.startFailures + 1 });
    throw error;
  }
  remember(deps, { startFailures: 0 });
}

async function busy(deps: FailoverDeps, what: 'cloning' | 'rewinding', work: () => Promise<void>): Promise<void> {
  remember(deps, { busy: what });
  await republish(deps, { state: what });
  try {
    await work();
  } finally {
    remember(deps, { busy: null });
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
  generation: number,
  began: number,
  promotedAt: number,
  catchUpWaitMs: number,
): Promise<void> {
  if ((await retrying(() => deps.local.status())).readOnly) await deps.local.unfence();
  await retrying(() => deps.local.firstWrite());
  const firstWriteAt = Date.now();
  const promoted = { generation, promotedAt, firstWriteAt, catchUpWaitMs };
  remember(deps, { promoted, crashedGeneration: null, demoted: null });
  deps.ctx.log.info(
    `primary of generation ${generation}: first write ${firstWriteAt - began} ms after the decision reached this node`,
    { generation, catchUpWaitMs },
  );
  await republish(deps, {
    role: 'primary',
    state: 'running',
    promoted,
    crashedGeneration: null,
    demoted: null,
    generation,
  });
}

async function promote(deps: FailoverDeps, generation: number, catchUpTimeoutMs: number): Promise<void> {
  const began = Date.now();
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
  await firstWrite(deps, generation, began, Date.now(), catchUpWaitMs);
}

async function rejoin(deps: FailoverDeps, from: Endpoint, forceClone: boolean): Promise<void> {
  await busy(deps, forceClone ? 'cloning' : 'rewinding', async () => {
    await deps.pg.stop('fast', 10_000);
    if (forceClone) await deps.pg.clone(from);
    else {
      try {
        await deps.pg.rewind(from);
      } catch (error) {
        deps.ctx.log.warn(`pg_rewind failed, re-cloning from ${from.name}: ${errorMessage(error)}`);
        await deps.pg.clone(from);
      }
    }
    try {
      await start(deps);
    } catch (error) {
      deps.ctx.log.warn(
        `${deps.config.node} did not start after pg_rewind, re-cloning from ${from.name}: ${errorMessage(error)}`,
      );
      await deps.pg.stop('immediate', 5000);
      await deps.pg.clone(from);
      await start(deps);
    }
    remember(deps, { crashedGeneration: null, demoted: null, promoted: null });
  });
}

async function fence(deps: FailoverDeps, reason: string): Promise<void> {
  deps.ctx.log.warn(`fencing: ${reason}`);
  try {
    await deps.local.fence();
  } catch (error) {
    deps.ctx.log.warn(`fencing by SQL failed (${errorMessage(error)}): stopping postgres`);
    await deps.pg.stop('fast', 2000);
  }
}

/**
 * Best effort, not awaited: a frozen server would hold the promotion for the whole probe timeout, and
 * one that answers is fenced within milliseconds anyway (its own daemon fences it too when it wakes).
 */
async function remoteFence(deps: FailoverDeps, member: Endpoint): Promise<void> {
  const link = new PgLink(
    { host: member.host, port: member.port, user: deps.config.pgUser, database: 'postgres' },
    deps.config.probeTimeoutMs,
  );
  try {
    await link.fence();
    deps.ctx.log.warn(`fenced ${member.name} remotely: its postgres still answered`);
  } catch (error) {
    deps.ctx.log.info(
      `remote fence of ${member.name} not possible (${errorMessage(error)}); it cannot answer writes either`,
    );
  } finally {
    await link.close();
  }
}

async function asLeader(
  deps: FailoverDeps,
  puts: Record<string, string>,
  deletes: readonly string[] = [],
): Promise<void> {
  if (!(await deps.session.putAsLeader(puts, deletes)))
    deps.ctx.log.warn('leadership lost before the write: nothing written');
}

/**
 * A software watchdog: a timer that notices this process was frozen (SIGSTOP, a stalled VM) for longer
 * than the lease allows and stops a writable primary at once (SIGQUIT: no SQL round trip for a client to
 * slip a commit through), before the loop's next pass reads etcd: a failover may have happened meanwhile.
 * The next pass rejoins it, or, if it is still the primary, has the leader fail over or restart it.
 */
export function freezeGuard(deps: FailoverDeps): ReturnType<typeof setInterval> {
  let last = Date.now();
  const timer = setInterval(() => {
    const now = Date.now();
    const gap = now - last;
    last = now;
    const report = deps.memory.lastReport;
    if (gap < deps.session.ttl * 600 || report === null || report.role !== 'primary' || report.state !== 'running')
      return;
    deps.ctx.log.warn(
      `fencing: this daemon was frozen for ${gap} ms, long enough for its ${deps.session.ttl} s lease to lapse; immediate shutdown`,
    );
    void deps.pg.stop('immediate', 5000).then(() => deps.wake());
  }, 50);
  timer.unref();
  return timer;
}

/** Carries out one decided action; each is idempotent, so a crash between two is repaired next pass. */
export async function actFailover(deps: FailoverDeps, action: FailoverAction): Promise<void> {
  const { session, pg, config } = deps;
  switch (action.kind) {
    case 'publish':
      return publish(deps, action.report);
    case 'initialize': {
      const now = Date.now();
      const won = await session.createIfAbsent('initialize', {
        initialize: config.node,
        primary: JSON.stringify({ name: config.node, generation: 1, since: now, demoting: null }),
        config: JSON.stringify(action.config),
      });
      if (!won) return;
      if (pg.local().dataDir === 'empty') await pg.initdb();
      await start(deps);
      return;
    }
    case 'clone':
      return busy(deps, 'cloning', async () => {
        await pg.clone(action.from);
        await start(deps);
      });
    case 'start':
      return start(deps);
    case 'promote':
      return promote(deps, action.generation, action.catchUpTimeoutMs);
    case 'first-write': {
      const now = Date.now();
      return firstWrite(deps, action.generation, now, now, 0);
    }
    case 'follow':
      pg.follow(action.to);
      return;
    case 'fence':
      return fence(deps, action.reason);
    case 'unfence':
      return deps.local.unfence();
    case 'demote': {
      await deps.local.checkpoint();
      await pg.stop('fast', 10_000);
      const cp = await pg.shutdownCheckpoint();
      const demoted = { generation: action.generation, lsn: cp.lsn, timeline: cp.timeline };
      remember(deps, { demoted });
      await republish(deps, { state: 'stopped', demoted });
      return;
    }
    case 'rejoin':
      return rejoin(deps, action.from, false);
    case 'reclone':
      return rejoin(deps, action.from, true);
    case 'set-sync-standbys': {
      pg.setSyncStandbys(action.names);
      await delay(50);
      const s = await deps.local.status();
      remember(deps, { ssnLsn: s.currentLsn });
      return;
    }
    case 'write-sync':
      return session.put('sync', JSON.stringify(action.record));
    case 'write-optime':
      return session.put('optime', JSON.stringify({ lsn: action.lsn }));
    case 'remember-crash':
      remember(deps, { crashedGeneration: action.generation });
      return;
    case 'campaign':
      session.campaignFor(config.node);
      return;
    case 'resign':
      return session.resign();
    case 'remote-fence':
      void remoteFence(deps, action.member);
      return;
    case 'set-primary': {
      const puts: Record<string, string> = { primary: JSON.stringify(action.record) };
      if (action.history !== null) puts[`history/${action.history.id}`] = JSON.stringify(action.history);
      if (action.resetSync) puts.sync = JSON.stringify({ primary: action.record.name, members: [] });
      return asLeader(deps, puts, action.clearSwitchover ? ['switchover'] : []);
    }
    case 'record-history':
      return asLeader(deps, { [`history/${action.entry.id}`]: JSON.stringify(action.entry) });
    case 'clear-switchover':
      return asLeader(
        deps,
        action.history === null ? {} : { [`history/${action.history.id}`]: JSON.stringify(action.history) },
        ['switchover'],
      );
    case 'clear-reinit':
      return session.delete(`reinit/${action.name}`);
  }
}
