import { z } from 'zod';
import { PatroniRest, type PatroniClusterInfo } from '../adapters/patroni-rest.js';
import type { ActionContext, AnyUserAction, UserAction } from '../kernel/agent.js';
import { PgdeckError } from '../kernel/errors.js';
import type { ActionPreview, ActionResult } from '../kernel/snapshot.js';
import { POSTGRES_CLUSTERS, type OperatorDeps } from './deps.js';
import type { ClusterRow, MemberView, OperatorConfig, OperatorState } from './types.js';

type Ctx = ActionContext<OperatorConfig, OperatorDeps, OperatorState>;
type Action<Args> = UserAction<OperatorConfig, OperatorDeps, OperatorState, Args>;

/** The field manager of a person's edits from pgdeck (pause, resume), apart from the operator's own. */
const CONSOLE_MANAGER = 'pgdeck-console';

const clusterArg = z.string().regex(/^[a-z0-9-]+\/[a-z0-9-]+$/, 'namespace/name of a PostgresCluster');
const switchoverArgs = z.strictObject({ cluster: clusterArg, candidate: z.string().min(1).optional() });
const failoverArgs = z.strictObject({ cluster: clusterArg, candidate: z.string().min(1) });
const memberArgs = z.strictObject({ cluster: clusterArg, member: z.string().min(1) });
const clusterArgs = z.strictObject({ cluster: clusterArg });
const scaleArgs = z.strictObject({ cluster: clusterArg, replicas: z.number().int().min(1).max(99) });

function row(ctx: Ctx, key: string): ClusterRow {
  const found = ctx.snapshot.state?.clusters.find((c) => `${c.namespace}/${c.name}` === key);
  if (found === undefined) throw new PgdeckError('not-found', `no PostgresCluster ${key} is known to this operator`);
  return found;
}

function rest(member: MemberView | undefined, what: string): PatroniRest {
  if (member?.api === undefined)
    throw new PgdeckError('unavailable', `${what} has no pod IP: Patroni cannot be reached`);
  return new PatroniRest(`http://${member.api}`);
}

/** The replica a switchover would promote: the one asked for, else the streaming one with the least lag. */
function pickCandidate(
  info: PatroniClusterInfo,
  asked: string | undefined,
): { name: string; lag: number | null } | null {
  // Patroni 3.0.x reports a healthy replica as `running`, later releases as `streaming`
  const replicas = info.members.filter(
    (m) => m.role !== 'leader' && (m.state === 'streaming' || m.state === 'running'),
  );
  const chosen =
    asked === undefined
      ? [...replicas].sort((a, b) => (a.lagBytes ?? Infinity) - (b.lagBytes ?? Infinity))[0]
      : replicas.find((m) => m.name === asked);
  return chosen === undefined ? null : { name: chosen.name, lag: chosen.lagBytes };
}

async function switchoverPlan(ctx: Ctx, args: z.infer<typeof switchoverArgs>) {
  const c = row(ctx, args.cluster);
  const primary = c.members.find((m) => m.role === 'master');
  if (primary === undefined)
    throw new PgdeckError('precondition', `${args.cluster} has no primary to switch over from`);
  const info = await rest(primary, primary.name).cluster(ctx.signal);
  return { c, primary, candidate: pickCandidate(info, args.candidate) };
}

const switchover: Action<z.infer<typeof switchoverArgs>> = {
  description: "planned switchover through Patroni's REST API: the primary hands over to a streaming replica",
  dangerous: true,
  args: switchoverArgs,
  argsHelp: '{cluster: "ns/name", candidate?: member}',
  preview: async (ctx, args): Promise<ActionPreview> => {
    const { primary, candidate } = await switchoverPlan(ctx, args);
    if (candidate === null)
      return {
        action: 'switchover',
        allowed: false,
        summary: `${args.cluster}: no streaming replica${args.candidate === undefined ? '' : ` named ${args.candidate}`} to switch over to`,
        effects: [],
        reason: 'no candidate',
      };
    return {
      action: 'switchover',
      allowed: true,
      summary: `${args.cluster}: switch over from ${primary.name} to ${candidate.name} (lag ${candidate.lag ?? '?'} bytes)`,
      effects: [
        `${primary.name} becomes a replica`,
        `${candidate.name} is promoted`,
        'connections to the primary drop',
      ],
      fields: { candidate: candidate.name, lagBytes: candidate.lag },
    };
  },
  invoke: async (ctx, args): Promise<ActionResult> => {
    const { primary, candidate } = await switchoverPlan(ctx, args);
    if (candidate === null)
      throw new PgdeckError('precondition', `${args.cluster}: no streaming replica to switch over to`);
    const message = await rest(primary, primary.name).switchover(primary.name, candidate.name, ctx.signal);
    return { action: 'switchover', ok: true, message: `${args.cluster}: ${message}` };
  },
};

const failover: Action<z.infer<typeof failoverArgs>> = {
  description: "failover to a chosen member through Patroni's REST API (also without a healthy primary)",
  dangerous: true,
  args: failoverArgs,
  argsHelp: '{cluster: "ns/name", candidate: member}',
  preview: (ctx, args): Promise<ActionPreview> => {
    const c = row(ctx, args.cluster);
    const target = c.members.find((m) => m.name === args.candidate);
    return Promise.resolve({
      action: 'failover',
      allowed: target !== undefined,
      summary: `${args.cluster}: fail over to ${args.candidate}${target === undefined ? ' (not a member)' : ''}`,
      effects: [`${args.candidate} is promoted`, 'writes not yet replicated to it are lost'],
    });
  },
  invoke: async (ctx, args): Promise<ActionResult> => {
    const c = row(ctx, args.cluster);
    const via = c.members.find((m) => m.name === args.candidate);
    const message = await rest(via, args.candidate).failover(args.candidate, ctx.signal);
    return { action: 'failover', ok: true, message: `${args.cluster}: ${message}` };
  },
};

const restart: Action<z.infer<typeof memberArgs>> = {
  description: "restart one member's PostgreSQL through Patroni",
  dangerous: true,
  args: memberArgs,
  argsHelp: '{cluster: "ns/name", member}',
  preview: (ctx, args) =>
    Promise.resolve({
      action: 'restart',
      allowed: row(ctx, args.cluster).members.some((m) => m.name === args.member),
      summary: `${args.cluster}: restart PostgreSQL on ${args.member}`,
      effects: [`connections to ${args.member} drop`],
    }),
  invoke: async (ctx, args) => {
    const member = row(ctx, args.cluster).members.find((m) => m.name === args.member);
    const message = await rest(member, args.member).restart(ctx.signal);
    return { action: 'restart', ok: true, message: `${args.cluster}/${args.member}: ${message}` };
  },
};

function pausing(paused: boolean): Action<z.infer<typeof clusterArgs>> {
  const verb = paused ? 'pause' : 'resume';
  return {
    description: paused
      ? 'stop reconciling a PostgresCluster (spec.paused)'
      : 'reconcile a paused PostgresCluster again',
    dangerous: paused,
    args: clusterArgs,
    argsHelp: '{cluster: "ns/name"}',
    preview: (ctx, args) =>
      Promise.resolve({
        action: verb,
        allowed: row(ctx, args.cluster).paused !== paused,
        summary: `${args.cluster}: ${paused ? 'pause reconciliation (the operator changes nothing)' : 'resume reconciliation'}`,
        effects: [`spec.paused: ${String(paused)}`],
      }),
    invoke: async (ctx, args) => {
      const [namespace, name] = args.cluster.split('/') as [string, string];
      await ctx.deps.kube
        .objects(CONSOLE_MANAGER)
        .apply(POSTGRES_CLUSTERS, { metadata: { name, namespace }, spec: { paused } }, { signal: ctx.signal });
      return { action: verb, ok: true, message: `${args.cluster}: ${paused ? 'paused' : 'resumed'}` };
    },
  };
}

const scale: Action<z.infer<typeof scaleArgs>> = {
  description: 'set the members of a PostgresCluster through its scale subresource',
  dangerous: true,
  args: scaleArgs,
  argsHelp: '{cluster: "ns/name", replicas: 1-99}',
  preview: (ctx, args) => {
    const c = row(ctx, args.cluster);
    const down = args.replicas < c.replicas;
    return Promise.resolve({
      action: 'scale',
      allowed: args.replicas !== c.replicas,
      summary: `${args.cluster}: ${c.replicas} -> ${args.replicas} members`,
      effects: down
        ? [`the highest-numbered ${c.replicas - args.replicas} pod(s) stop; their volumes stay`]
        : [`${args.replicas - c.replicas} replica(s) are created and clone from the primary`],
      fields: { from: c.replicas, to: args.replicas },
    });
  },
  invoke: async (ctx, args) => {
    const [namespace, name] = args.cluster.split('/') as [string, string];
    const result = await ctx.deps.objects.patchScale(POSTGRES_CLUSTERS, namespace, name, args.replicas, {
      signal: ctx.signal,
    });
    if (result.kind === 'requeue') throw new PgdeckError('conflict', `${args.cluster}: ${result.reason}`);
    return { action: 'scale', ok: true, message: `${args.cluster}: scaled to ${result.object.replicas}` };
  },
};

export const operatorActions: Readonly<Record<string, AnyUserAction<OperatorConfig, OperatorDeps, OperatorState>>> = {
  switchover,
  failover,
  restart,
  pause: pausing(true),
  resume: pausing(false),
  scale,
};
