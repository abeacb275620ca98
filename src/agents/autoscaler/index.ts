import type { AgentDefinition } from '../kernel/agent.js';
import { actAutoscaler } from './act.js';
import { autoscalerActions } from './actions.js';
import { autoscalerCliOptions, autoscalerConfigSchema } from './config.js';
import { StreamConsumer } from './consumer.js';
import { decideAutoscaler } from './decide/pass.js';
import { closeAutoscaler, connectAutoscaler, type AutoscalerDeps } from './deps.js';
import { memorizeAutoscaler, observeAutoscaler } from './observe.js';
import type {
  AutoscalerAction,
  AutoscalerConfig,
  AutoscalerMemory,
  AutoscalerObserved,
  AutoscalerState,
} from './types.js';

/** Pod changes and reads of the stream wake the agent's pass at most this often. */
const WAKE_MS = 100;

/**
 * The autoscaler: scale events from a Redis Stream (consumer group, one consumer per replica) to task
 * pods and replica targets, each event acknowledged only once its Kubernetes action is done. Replicas
 * share the stream, so it elects no leader; its loop cleans up finished pods and publishes the state.
 */
export const autoscalerAgent: AgentDefinition<
  AutoscalerConfig,
  AutoscalerDeps,
  AutoscalerObserved,
  AutoscalerAction,
  AutoscalerState,
  AutoscalerMemory
> = {
  name: 'autoscaler',
  description: 'Redis Streams scale events to worker pods and replica targets, exactly once in effect',
  configSchema: autoscalerConfigSchema,
  cliOptions: autoscalerCliOptions,
  identify: (config) => ({
    entity: `${config.redis.stream}/${config.redis.consumerGroup}`,
    instance: config.consumer,
    label: config.consumer,
  }),
  initialMemory: () => ({ reported: [] }),
  connect: connectAutoscaler,
  observe: observeAutoscaler,
  memorize: memorizeAutoscaler,
  decide: decideAutoscaler,
  act: actAutoscaler,
  reachability: (o) => ({ redis: o.stream.reachable, kubernetes: o.podsSynced }),
  wakeOn: (deps, ctx) => {
    // bursts of pod changes and of reads wake one pass per WAKE_MS, not one each (a pass reads all pods)
    let timer: NodeJS.Timeout | undefined;
    const wake = (): void => {
      timer ??= setTimeout(() => {
        timer = undefined;
        ctx.wake();
      }, WAKE_MS);
    };
    const consumer = new StreamConsumer(deps, ctx, wake);
    ctx.spawn('stream-consumer', (signal) => consumer.run(signal));
    ctx.spawn('pod-watch', (signal) => {
      const unsubscribe = deps.pods.subscribe(wake);
      return new Promise((resolve) =>
        signal.addEventListener(
          'abort',
          () => {
            unsubscribe();
            clearTimeout(timer);
            resolve();
          },
          { once: true },
        ),
      );
    });
  },
  actions: autoscalerActions,
  close: closeAutoscaler,
};
