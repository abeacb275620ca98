import type { AgentDefinition } from '../kernel/agent.js';
import { actFailover, freezeGuard } from './act.js';
import { failoverActions } from './actions.js';
import { failoverCliOptions, failoverConfigSchema } from './config.js';
import { decideFailover } from './decide.js';
import { connectFailover, type FailoverDeps } from './deps.js';
import { failoverRoutes } from './endpoints.js';
import { observeFailover } from './observe.js';
import type { FailoverAction, FailoverConfig, FailoverObserved, FailoverState } from './types.js';

/** The failover node daemon: one per PostgreSQL server, coordinated through etcd. */
export const failoverAgent: AgentDefinition<
  FailoverConfig,
  FailoverDeps,
  FailoverObserved,
  FailoverAction,
  FailoverState
> = {
  name: 'failover',
  description: 'etcd-based HA daemon for one PostgreSQL server: leader election, failover, switchover, fencing',
  configSchema: failoverConfigSchema,
  cliOptions: failoverCliOptions,
  identify: (config) => ({ entity: config.cluster, instance: `${config.cluster}/${config.node}`, label: config.node }),
  connect: connectFailover,
  observe: (deps) => observeFailover(deps),
  decide: decideFailover,
  act: (deps, action) => actFailover(deps, action),
  reachability: (o) => ({ etcd: o.cluster !== null, postgres: o.local.status !== null }),
  wakeOn: (deps, wake, signal) => {
    deps.wake = wake;
    const watch = (): void => {
      if (!signal.aborted) deps.session.watch().catch(() => setTimeout(watch, 1000).unref());
    };
    watch();
    const guard = freezeGuard(deps);
    signal.addEventListener(
      'abort',
      () => {
        clearInterval(guard);
        deps.wake = () => undefined;
      },
      { once: true },
    );
  },
  routes: failoverRoutes,
  logSources: (deps) => ({ postgres: { kind: 'file', path: deps.pg.logFile } }),
  actions: failoverActions,
  close: async (deps) => {
    await deps.session.close();
    await deps.local.close();
    await Promise.all([...deps.peers.values()].map((p) => p.link.close()));
  },
};
