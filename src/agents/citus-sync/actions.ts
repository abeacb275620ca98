import { z } from 'zod';
import type { ActionContext, UserAction } from '../kernel/agent.js';
import { PgdeckError } from '../kernel/errors.js';
import type { ActionPreview, ActionResult } from '../kernel/snapshot.js';
import { addressOfKey } from './address-policy.js';
import type { CitusSyncDeps } from './deps.js';
import type { CitusSyncConfig, CitusSyncState, WorkerAddress } from './types.js';

type Ctx = ActionContext<CitusSyncConfig, CitusSyncDeps, CitusSyncState>;
type Args = { readonly worker: string };

const workerArgs = z.object({ worker: z.string().min(1) }).strict();

function addressOf(args: Args): WorkerAddress {
  const address = addressOfKey(args.worker);
  if (address === null)
    throw new PgdeckError('invalid-argument', `worker must be host:port, got "${args.worker}"`, { field: 'worker' });
  return address;
}

/** The worker's row now, read from the coordinator (not the snapshot, which may be a pass behind). */
async function current(ctx: Ctx, args: Args) {
  const address = addressOf(args);
  const node = await ctx.deps.coordinator.node(address.host, address.port);
  return { address, node };
}

function livePod(ctx: Ctx, worker: string): string | undefined {
  return ctx.snapshot.state?.workers.find((w) => w.key === worker && w.ready && !w.deleting)?.pod ?? undefined;
}

type Op = 'drain' | 'activate' | 'remove';

async function preview(ctx: Ctx, args: Args, op: Op): Promise<ActionPreview> {
  const { node } = await current(ctx, args);
  const refuse = (reason: string): ActionPreview => ({
    action: op,
    allowed: false,
    summary: `${op} ${args.worker}`,
    effects: [],
    reason,
  });
  if (node === undefined) return refuse(`${args.worker} is not in pg_dist_node`);
  const moves = `${node.shards} shard placement(s) would move off node ${node.nodeid}`;
  switch (op) {
    case 'drain':
      return {
        action: op,
        allowed: true,
        summary: `drain node ${node.nodeid} (${args.worker})`,
        effects: [moves, 'it gets no new shards (shouldhaveshards=false)'],
      };
    case 'activate':
      if (node.isactive) return refuse(`node ${node.nodeid} is already active`);
      return {
        action: op,
        allowed: true,
        summary: `activate node ${node.nodeid} (${args.worker})`,
        effects: ['citus_activate_node: it serves queries again'],
      };
    case 'remove': {
      const pod = livePod(ctx, args.worker);
      if (pod !== undefined)
        return refuse(`pod ${pod} is ready: citus-sync would add it again; delete or scale down the pod instead`);
      if (node.shards > 0) return refuse(`node ${node.nodeid} holds ${node.shards} shard placement(s): drain it first`);
      return {
        action: op,
        allowed: true,
        summary: `remove node ${node.nodeid} (${args.worker})`,
        effects: ['citus_remove_node: its row leaves pg_dist_node'],
      };
    }
  }
}

async function invoke(ctx: Ctx, args: Args, op: Op): Promise<ActionResult> {
  const p = await preview(ctx, args, op);
  if (!p.allowed) throw new PgdeckError('precondition', p.reason ?? `${op} is not possible now`);
  const { address } = await current(ctx, args);
  const c = ctx.deps.coordinator;
  if (op === 'drain') await c.drainNode(address.host, address.port);
  else if (op === 'activate') await c.activateNode(address.host, address.port);
  else await c.removeNode(address.host, address.port);
  ctx.wake();
  return { action: op, ok: true, message: `${p.summary}: done` };
}

function action(
  op: Op,
  description: string,
  dangerous: boolean,
): UserAction<CitusSyncConfig, CitusSyncDeps, CitusSyncState, Args> {
  return {
    description,
    dangerous,
    args: workerArgs,
    argsHelp: 'worker: host:port as in pg_dist_node',
    preview: (ctx, args) => preview(ctx, args, op),
    invoke: (ctx, args) => invoke(ctx, args, op),
  };
}

export const citusSyncActions = {
  drain: action('drain', 'move every shard off a worker (citus_drain_node); it stays registered without shards', true),
  activate: action('activate', 're-activate a disabled worker (citus_activate_node)', false),
  remove: action('remove', 'remove a worker without shards whose pod is gone (citus_remove_node)', true),
};
