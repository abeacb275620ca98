import type { AgentDefinition } from '../kernel/agent.js';
import type { WatchContext } from '../kernel/context.js';
import { actFailover } from './act.js';
import { failoverActions } from './actions.js';
import { failoverCliOptions, failoverConfigSchema } from './config.js';
import { decideFailover } from './decide/compose.js';
import { connectFailover, initialFailoverMemory, type FailoverDeps, type FailoverMemory } from './deps.js';
import { failoverRoutes } from './endpoints.js';
import { guardAgainstFreeze } from './freeze-guard.js';
import { guardLease } from './lease-guard.js';
import { memorizeFailover, observeFailover } from './observe.js';
import { stopServerOnClose } from './shutdown.js';
import type { FailoverAction, FailoverConfig, FailoverObserved, FailoverState } from './types.js';

/** The etcd watch is retried this often until it is established (it re-establishes itself after that). */
const watchRetryMs = 1000;

function watchEtcd(deps: FailoverDeps, ctx: WatchContext<FailoverMemory>): void {
  ctx.spawn('etcd-watch', async (signal) => {
    while (!signal.aborted) {
      try {
        await deps.session.watch();
        return;
      } catch {
        await ctx.clock.sleep(watchRetryMs, signal);
      }
    }
  });
}

/**
 * The failover node daemon: one per PostgreSQL server, coordinated through etcd. It keeps its own etcd
 * election (it is the HA mechanism itself), so it declares no `leaderElection`.
 */
export const failoverAgent: AgentDefinition<
  FailoverConfig,
  FailoverDeps,
  FailoverObserved,
  FailoverAction,
  FailoverState,
  FailoverMemory
> = {
  name: 'failover',
  description: 'etcd-based HA daemon for one PostgreSQL server: leader election, failover, switchover, fencing',
  configSchema: failoverConfigSchema,
  cliOptions: failoverCliOptions,
  identify: (config) => ({ entity: config.cluster, instance: `${config.cluster}/${config.node}`, label: config.node }),
  initialMemory: () => initialFailoverMemory,
  connect: connectFailover,
  observe: observeFailover,
  memorize: memorizeFailover,
  decide: decideFailover,
  act: actFailover,
  reachability: (o) => ({ etcd: o.cluster !== null, postgres: o.local.status !== null }),
  wakeOn: (deps, ctx) => {
    watchEtcd(deps, ctx);
    guardAgainstFreeze(deps, ctx);
    guardLease(deps, ctx);
  },
  routes: failoverRoutes,
  logSources: (deps) => ({ postgres: { kind: 'file', path: deps.pg.logFile } }),
  actions: failoverActions,
  close: async (deps) => {
    await stopServerOnClose(deps);
    await deps.session.close();
    await deps.local.close();
    await Promise.all([...deps.peers.values()].map((p) => p.link.close()));
  },
};
