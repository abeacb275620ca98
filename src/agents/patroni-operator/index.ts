import type { AgentDefinition } from '../kernel/agent.js';
import { operatorActions } from './actions.js';
import { actCluster, operatorErrorPolicy, recordFailure } from './act.js';
import { operatorCliOptions, operatorConfigSchema } from './config.js';
import { decideCluster } from './decide/compose.js';
import { decideOperator } from './decide/operator.js';
import { connectOperator, type OperatorDeps } from './deps.js';
import { observeCluster, observeOperator } from './observe.js';
import type { OperatorConfig, OperatorMemory, OperatorObserved, OperatorState } from './types.js';
import { watchOperator } from './watch.js';

/** Clusters reconciled at once (controller-runtime's MaxConcurrentReconciles). */
export const OPERATOR_RECONCILE_CONCURRENCY = 16;

/**
 * The Patroni operator: reconciles each PostgresCluster (one key per cluster, through the kernel's
 * work queue) into the RBAC, configuration, credentials, Services, Spilo StatefulSet, PDB and pooler
 * Patroni needs; several replicas elect a leader over a Lease, and only the leader writes.
 */
export const patroniOperatorAgent: AgentDefinition<
  OperatorConfig,
  OperatorDeps,
  OperatorObserved,
  never,
  OperatorState,
  OperatorMemory
> = {
  name: 'patroni-operator',
  description: 'Kubernetes operator for PostgresCluster resources: Spilo/Patroni StatefulSets, Services, status',
  configSchema: operatorConfigSchema,
  cliOptions: operatorCliOptions,
  identify: (config) => ({
    entity: config.namespace === '' ? 'all-namespaces' : config.namespace,
    instance: config.instance,
    label: config.instance,
  }),
  initialMemory: () => ({ applied: {} }),
  connect: connectOperator,
  observe: (deps) => observeOperator(deps),
  decide: decideOperator,
  act: () => Promise.resolve(),
  reachability: (o) => ({ kubernetes: o.synced }),
  wakeOn: watchOperator,
  reconcile: {
    keys: (o) => o.clusters.map((c) => `${c.namespace}/${c.name}`),
    observe: observeCluster,
    decide: decideCluster,
    act: async (deps, key, action, ctx) => {
      try {
        await actCluster(deps, key, action, ctx);
      } catch (error) {
        await recordFailure(deps, key, error, ctx);
        throw error;
      }
    },
    errorPolicy: operatorErrorPolicy,
    // a cluster's first reconcile is a chain of about ten writes (each an API round trip); with the
    // kernel's 4 at once, 100 clusters created together queued for minutes, and a cluster whose members
    // had turned Ready waited behind them (up to 18 s) for the pass that sets Running
    concurrency: OPERATOR_RECONCILE_CONCURRENCY,
  },
  leaderElection: 'kube-lease',
  actions: operatorActions,
  close: (deps) => deps.kube.close(),
};
