import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import type { ActionContext, UserAction } from '../kernel/agent.js';
import { PgdeckError } from '../kernel/errors.js';
import type { ActionPreview, ActionResult } from '../kernel/snapshot.js';
import { dynamicConfigSchema } from './config.js';
import type { FailoverDeps } from './deps.js';
import { mib } from './failover-policy.js';
import type {
  DynamicConfig,
  FailoverConfig,
  FailoverState,
  MemberReport,
  MemberStatus,
  PrimaryRecord,
  SwitchoverRequest,
} from './types.js';

type Ctx = ActionContext<FailoverConfig, FailoverDeps, FailoverState>;
type Action<Args> = UserAction<FailoverConfig, FailoverDeps, FailoverState, Args>;

const candidateArgs = z.object({ candidate: z.string().min(1).optional() }).strict();
const requiredCandidate = z.object({ candidate: z.string().min(1) }).strict();
const memberArgs = z.object({ member: z.string().min(1) }).strict();
const noArgs = z.object({}).strict();
const configArgs = z.object({ set: z.record(z.string(), z.unknown()) }).strict();

function state(ctx: Ctx): FailoverState {
  const s = ctx.snapshot.state;
  if (s === undefined) throw new PgdeckError('unavailable', 'the failover daemon has not completed a pass yet');
  if (!s.etcdReachable)
    throw new PgdeckError('unavailable', 'etcd is unreachable: no change can be made until it is back');
  return s;
}

/**
 * The published state with each member's role, state and position taken from its own latest report in
 * etcd: the snapshot can be a pass behind the member (a replica that started streaming a moment ago).
 */
async function freshState(ctx: Ctx): Promise<FailoverState> {
  const s = state(ctx);
  const entries = await ctx.deps.session.readAll();
  if (entries === null)
    throw new PgdeckError('unavailable', 'etcd is unreachable: no change can be made until it is back');
  const members = s.members.map((m): MemberStatus => {
    const raw = entries.get(`members/${m.name}`)?.value;
    if (raw === undefined) return m;
    const report = JSON.parse(raw) as MemberReport;
    return { ...m, role: report.role, state: report.state, receivedLsn: report.receivedLsn };
  });
  return { ...s, members };
}

/** The field of the refusal a replica whose WAL receiver is (re)connecting gets: it may stream a moment later. */
const notStreamingField = 'candidate.state';
/** How long a switchover waits for a replica that is reconnecting to stream again before refusing. */
const streamingSettleMs = 3000;
const streamingPollMs = 100;

/** Picks as `pick` does, giving a candidate that is not streaming yet a moment to (re)connect. */
async function pickStreaming(
  ctx: Ctx,
  name: string | undefined,
): Promise<{ primary: MemberStatus; candidate: MemberStatus }> {
  const until = Date.now() + streamingSettleMs;
  for (;;) {
    try {
      return pick(await freshState(ctx), name, true);
    } catch (error) {
      const settling = error instanceof PgdeckError && error.field === notStreamingField && Date.now() < until;
      if (!settling) throw error;
      await delay(streamingPollMs);
    }
  }
}

function primaryOf(s: FailoverState): MemberStatus {
  const p = s.members.find((m) => m.name === s.primary);
  if (p === undefined) throw new PgdeckError('precondition', 'the cluster has no primary');
  return p;
}

function bestReplica(s: FailoverState, primary: string): MemberStatus | undefined {
  return s.members
    .filter((m) => m.name !== primary && m.role === 'replica' && m.state === 'streaming' && !m.noFailover)
    .sort((a, b) => (b.receivedLsn ?? 0) - (a.receivedLsn ?? 0) || a.name.localeCompare(b.name))[0];
}

function pick(
  s: FailoverState,
  name: string | undefined,
  streaming: boolean,
): { primary: MemberStatus; candidate: MemberStatus } {
  const primary = primaryOf(s);
  if (name === undefined) {
    const best = bestReplica(s, primary.name);
    if (best === undefined) throw new PgdeckError('precondition', 'no streaming replica to switch over to');
    return { primary, candidate: best };
  }
  const candidate = s.members.find((m) => m.name === name);
  if (candidate === undefined)
    throw new PgdeckError(
      'not-found',
      `no member named "${name}"; members: ${s.members.map((m) => m.name).join(', ')}`,
    );
  if (candidate.name === primary.name) throw new PgdeckError('precondition', `${name} is already the primary`);
  if (candidate.role !== 'replica' || (streaming && candidate.state !== 'streaming'))
    throw new PgdeckError('precondition', `${name} is ${candidate.role} ${candidate.state}, not a streaming replica`, {
      field: notStreamingField,
    });
  return { primary, candidate };
}

async function record(ctx: Ctx): Promise<PrimaryRecord | null> {
  const entries = await ctx.deps.session.readAll();
  if (entries === null) throw new PgdeckError('unavailable', 'etcd is unreachable');
  const raw = entries.get('primary')?.value;
  return raw === undefined ? null : (JSON.parse(raw) as PrimaryRecord);
}

/** Files the request in etcd (the leader carries it out) and waits until the new primary is named. */
async function request(ctx: Ctx, kind: SwitchoverRequest['kind'], from: string, to: string): Promise<ActionResult> {
  const req: SwitchoverRequest = {
    id: randomUUID(),
    kind,
    from,
    to,
    by: `${ctx.actor.who} via ${ctx.actor.via}`,
    at: Date.now(),
  };
  const filed = await ctx.deps.session.createIfAbsent('switchover', { switchover: JSON.stringify(req) });
  if (!filed) throw new PgdeckError('conflict', 'a switchover or failover is already in progress');
  ctx.wake();
  const began = Date.now();
  const limit = (ctx.snapshot.state?.config.failoverTimeoutMs ?? 5000) + 15_000;
  while (Date.now() - began < limit) {
    await delay(20);
    const now = await record(ctx).catch(() => null);
    if (now !== null && now.demoting === null && now.name === to)
      return {
        action: kind,
        ok: true,
        message: `${to} is the primary (${kind} from ${from} took ${Date.now() - began} ms)`,
        fields: { primary: to, generation: now.generation },
      };
    if (now !== null && now.demoting === null && now.name === from && Date.now() - req.at > 200) {
      const pending = (await ctx.deps.session.readAll())?.get('switchover');
      if (pending === undefined)
        return {
          action: kind,
          ok: false,
          message: `${kind} did not happen: ${from} stays primary (see the history for why)`,
        };
    }
  }
  return { action: kind, ok: false, message: `${kind} to ${to} not finished after ${limit} ms; see the history` };
}

async function setDynamic(ctx: Ctx, change: Record<string, unknown>): Promise<DynamicConfig> {
  const current = state(ctx).config;
  const parsed = dynamicConfigSchema.safeParse({ ...current, ...change });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new PgdeckError(
      'invalid-argument',
      `config ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}; kept the current value`,
      { field: String(issue?.path[0] ?? 'set') },
    );
  }
  const unknown = Object.keys(change).filter((k) => !(k in current));
  if (unknown.length > 0)
    throw new PgdeckError(
      'invalid-argument',
      `config: unknown setting ${unknown.join(', ')}; known: ${Object.keys(current).join(', ')}`,
      { field: unknown[0]! },
    );
  await ctx.deps.session.put('config', JSON.stringify(parsed.data));
  ctx.wake();
  return parsed.data;
}

const switchover: Action<z.infer<typeof candidateArgs>> = {
  description:
    'planned switchover to a replica (named or the best): checkpoint, clean demotion, exact-LSN catch-up, promotion',
  dangerous: true,
  args: candidateArgs,
  argsHelp: '{candidate?: member name}',
  preview: async (ctx, args): Promise<ActionPreview> => {
    const { primary, candidate } = pick(await freshState(ctx), args.candidate, true);
    return {
      action: 'switchover',
      allowed: true,
      summary: `switch over from ${primary.name} to ${candidate.name}`,
      effects: [
        `${primary.name}: checkpoint, then clean shutdown (writes pause)`,
        `${candidate.name}: waits for the shutdown checkpoint, then is promoted`,
        `${primary.name} rejoins as a replica of ${candidate.name}`,
      ],
      dataLossBytes: 0,
      restarts: [primary.name],
      fields: { from: primary.name, to: candidate.name },
    };
  },
  invoke: async (ctx, args) => {
    const { primary, candidate } = await pickStreaming(ctx, args.candidate);
    return request(ctx, 'switchover', primary.name, candidate.name);
  },
};

const failover: Action<z.infer<typeof requiredCandidate>> = {
  description: 'promote the named replica now (manual failover; lag budget waived, data loss shown first)',
  dangerous: true,
  args: requiredCandidate,
  argsHelp: '{candidate: member name}',
  preview: async (ctx, args): Promise<ActionPreview> => {
    const s = state(ctx);
    const { primary, candidate } = pick(s, args.candidate, false);
    const loss = primary.healthy ? 0 : Math.max(0, (primary.writtenLsn ?? 0) - (candidate.receivedLsn ?? 0));
    return {
      action: 'failover',
      allowed: true,
      summary: `promote ${candidate.name} in place of ${primary.name}${primary.healthy ? ' (the primary is healthy: done as a switchover)' : ''}`,
      effects: [
        `${candidate.name} becomes the primary`,
        `${primary.name} is fenced and rejoins as a replica`,
        loss > 0
          ? `up to ${mib(loss)} written on ${primary.name} may be lost`
          : 'no acknowledged write is expected to be lost',
      ],
      dataLossBytes: loss,
      restarts: [primary.name],
      fields: { from: primary.name, to: candidate.name },
    };
  },
  invoke: async (ctx, args) => {
    const { primary, candidate } = pick(state(ctx), args.candidate, false);
    return request(ctx, 'manual-failover', primary.name, candidate.name);
  },
};

function pauseAction(paused: boolean): Action<z.infer<typeof noArgs>> {
  const verb = paused ? 'pause' : 'resume';
  return {
    description: paused
      ? 'pause automatic failover (a crashed primary is restarted in place)'
      : 'resume automatic failover',
    dangerous: true,
    args: noArgs,
    argsHelp: '{}',
    preview: async (ctx): Promise<ActionPreview> => {
      const s = state(ctx);
      return {
        action: verb,
        allowed: s.config.paused !== paused,
        summary: `${verb} automatic failover of ${s.cluster}`,
        effects: [
          paused
            ? 'no member is promoted automatically until resumed'
            : 'a failed primary is replaced automatically again',
        ],
        ...(s.config.paused === paused ? { reason: `already ${paused ? 'paused' : 'running'}` } : {}),
      };
    },
    invoke: async (ctx) => {
      await setDynamic(ctx, { paused });
      return { action: verb, ok: true, message: `automatic failover ${paused ? 'paused' : 'resumed'}` };
    },
  };
}

/** The replica `name` names; refuses an unknown member and the primary. */
function reinitTarget(s: FailoverState, name: string): MemberStatus {
  const member = s.members.find((m) => m.name === name);
  if (member === undefined) throw new PgdeckError('not-found', `no member named "${name}"`);
  if (member.name === s.primary)
    throw new PgdeckError('precondition', `${member.name} is the primary; switch over first`);
  return member;
}

const reinit: Action<z.infer<typeof memberArgs>> = {
  description: "delete a replica's data directory and clone it again from the primary",
  dangerous: true,
  args: memberArgs,
  argsHelp: '{member: member name}',
  preview: async (ctx, args): Promise<ActionPreview> => {
    const s = state(ctx);
    const member = reinitTarget(s, args.member);
    return {
      action: 'reinit',
      allowed: true,
      summary: `reinitialize ${member.name} from ${s.primary ?? '?'}`,
      effects: [
        `${member.name}: postgres stopped, data directory deleted`,
        `${member.name}: pg_basebackup from ${s.primary ?? '?'}, then streams again`,
      ],
      dataLossBytes: 0,
      restarts: [member.name],
    };
  },
  invoke: async (ctx, args) => {
    reinitTarget(state(ctx), args.member);
    await ctx.deps.session.put(
      `reinit/${args.member}`,
      JSON.stringify({ by: `${ctx.actor.who} via ${ctx.actor.via}`, at: Date.now() }),
    );
    ctx.wake();
    return { action: 'reinit', ok: true, message: `reinit of ${args.member} requested; its daemon re-clones it` };
  },
};

const config: Action<z.infer<typeof configArgs>> = {
  description:
    'change dynamic settings in etcd (ttlSeconds, loopIntervalMs, lagBudgetBytes, synchronousMode, synchronousStrict, failoverTimeoutMs)',
  dangerous: true,
  args: configArgs,
  argsHelp: '{set: {setting: value}}',
  preview: async (ctx, args): Promise<ActionPreview> => {
    const current = state(ctx).config;
    const next = dynamicConfigSchema.safeParse({ ...current, ...args.set });
    const changes = Object.entries(args.set).map(
      ([k, v]) => `${k}: ${JSON.stringify((current as unknown as Record<string, unknown>)[k])} -> ${JSON.stringify(v)}`,
    );
    return next.success
      ? { action: 'config', allowed: true, summary: `change ${Object.keys(args.set).join(', ')}`, effects: changes }
      : {
          action: 'config',
          allowed: false,
          summary: 'refused',
          effects: changes,
          reason: next.error.issues[0]?.message ?? 'invalid',
        };
  },
  invoke: async (ctx, args) => {
    const next = await setDynamic(ctx, args.set);
    return { action: 'config', ok: true, message: `dynamic config updated`, fields: { ...next } };
  },
};

export const failoverActions = {
  switchover,
  failover,
  pause: pauseAction(true),
  resume: pauseAction(false),
  reinit,
  config,
};
