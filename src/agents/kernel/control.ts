import type { ActionContext, AnyUserAction } from './agent.js';
import { PgdeckError, errorKind, errorMessage } from './errors.js';
import type { AgentMetrics } from './metrics.js';
import { describeIssues } from './schema.js';
import type { ActionInfo, ActionPreview, ActionResult, Actor, AgentControl } from './snapshot.js';
import type { AgentStore } from './store.js';

const systemActor: Actor = { who: 'unknown', via: 'api' };

export interface ControlParams<C, D, P> {
  readonly name: string;
  readonly actions: Readonly<Record<string, AnyUserAction<C, D, P>>>;
  readonly store: AgentStore<P>;
  readonly metrics: AgentMetrics;
  readonly context: (actor: Actor) => ActionContext<C, D, P>;
  /** Runs a pass after an action so its effect is observed at once. */
  readonly wake: () => void;
}

/** An agent's user actions: arguments checked, previews, invocations with an audit trail in the journal. */
export function agentControl<C, D, P>(p: ControlParams<C, D, P>): AgentControl {
  const { name: agent, actions, store, metrics } = p;
  const resolve = (name: string, args: unknown): { action: AnyUserAction<C, D, P>; parsed: unknown } => {
    const action = Object.hasOwn(actions, name) ? actions[name] : undefined;
    if (action === undefined) throw new PgdeckError('not-found', `agent ${agent} has no action "${name}"`);
    const result = action.args.safeParse(args ?? {});
    if (!result.success) {
      const { field, message } = describeIssues(result.error.issues);
      throw new PgdeckError('invalid-argument', `${field}: ${message}`, { field });
    }
    return { action, parsed: result.data };
  };

  return {
    async preview(name, args, actor = systemActor): Promise<ActionPreview> {
      const { action, parsed } = resolve(name, args);
      return action.preview(p.context(actor), parsed);
    },
    async invoke(name, args, actor = systemActor): Promise<ActionResult> {
      const { action, parsed } = resolve(name, args);
      store.record({
        severity: 'info',
        kind: 'action-invoked',
        message: `${actor.who} via ${actor.via} invoked ${name}`,
        fields: { action: name, args: parsed, actor },
      });
      try {
        const result = await action.invoke(p.context(actor), parsed);
        metrics.action(agent, name, result.ok ? 'ok' : 'refused');
        store.record({
          severity: result.ok ? 'info' : 'warn',
          kind: result.ok ? 'action-succeeded' : 'action-refused',
          message: `${name}: ${result.message}`,
          fields: { action: name, actor, ...result.fields },
        });
        p.wake();
        return result;
      } catch (error) {
        metrics.action(agent, name, 'error');
        store.record({
          severity: 'error',
          kind: 'action-failed',
          message: `${name} failed (${errorKind(error)}): ${errorMessage(error)}`,
          fields: { action: name, actor },
        });
        throw error;
      }
    },
  };
}

export function describeActions<C, D, P>(actions: Readonly<Record<string, AnyUserAction<C, D, P>>>): ActionInfo[] {
  return Object.entries(actions).map(([name, a]) => ({
    name,
    description: a.description,
    dangerous: a.dangerous,
    args: a.argsHelp,
  }));
}
