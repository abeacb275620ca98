import { Journal } from '../agents/kernel/journal.js';
import {
  initialHealth,
  type ActionInfo,
  type ActionPreview,
  type ActionResult,
  type AgentHandle,
  type AgentSnapshot,
} from '../agents/kernel/snapshot.js';
import { CHAOS_ACTIONS, parseChaosAction, type ChaosAction, type ChaosReport } from './stack/chaos.js';
import { callControl } from './stack/control.js';
import { renderChaos } from './stack/render.js';
import type { LabState } from './stack/state.js';

/** What the console shows of a lab: its state without the token. */
export type LabView = Omit<LabState, 'token'>;

const what: Readonly<Record<ChaosAction, string>> = {
  'kill-node': "kill -9 of a node's daemon and server (default: the primary); its daemon is restarted after",
  'kill-postgres': "kill -9 of a node's server only (default: the primary)",
  freeze: "SIGSTOP of a node's daemon and server (default: the primary) until thaw",
  thaw: 'SIGCONT of the frozen node',
  partition: "cut a node's link to the bridge (default: the primary; a lab up with --netns) until heal",
  heal: "bring the cut node's link up again",
  'restart-etcd': 'stop etcd and start it again on its data',
  'restart-redis': 'stop Redis and start it again on its append-only file',
  'restart-apiserver': 'kill the kube-apiserver and start it again',
};

/** The drills that need the nodes in network namespaces. */
const NETNS_ACTIONS: readonly ChaosAction[] = ['partition', 'heal'];

/** The drills a lab offers: partition and heal only when its nodes run in network namespaces. */
export function labActions(netns: boolean): ActionInfo[] {
  return CHAOS_ACTIONS.filter((a) => netns || !NETNS_ACTIONS.includes(a)).map((a) => ({
    name: `chaos-${a}`,
    description: what[a],
    dangerous: true,
    args: a === 'thaw' || a === 'heal' || a.startsWith('restart') ? '{}' : '{"node"?: "pgN"}',
  }));
}

const chaosOf = (name: string): ChaosAction => parseChaosAction(name.replace(/^chaos-/, ''));
const nodeOf = (args: unknown): string =>
  typeof (args as { node?: unknown } | null)?.node === 'string' ? (args as { node: string }).node : '';

/**
 * The running lab as one more source of the console: its state, polled from the supervisor's
 * control socket, and its chaos drills as actions (each drill's numbers land in the events).
 */
export function labHandle(dir: string, pollMs = 1000): AgentHandle<LabView> {
  const journal = new Journal('lab', 500);
  const listeners = new Set<() => void>();
  let snapshot: AgentSnapshot<LabView> = {
    agent: 'lab',
    identity: { kind: 'lab', entity: 'lab', instance: 'lab', label: 'lab' },
    version: 0,
    updatedAt: Date.now(),
    health: initialHealth,
    state: undefined,
    summary: 'connecting to the lab supervisor',
    actions: labActions(false),
    source: { mode: 'in-process', connected: false, stale: false },
  };
  const publish = (next: Partial<AgentSnapshot<LabView>>): void => {
    snapshot = { ...snapshot, ...next, version: snapshot.version + 1, updatedAt: Date.now() };
    for (const l of listeners) l();
  };
  const poll = async (): Promise<void> => {
    try {
      const res = await callControl(dir, 'GET', '/state', {}, 2000);
      const { token: _token, ...state } = res.body as unknown as LabState;
      const ready = state.components.filter((c) => c.phase === 'ready').length;
      const failed = state.components.some((c) => c.phase === 'failed');
      publish({
        state,
        actions: labActions(state.netns === true),
        summary: `${ready} of ${state.components.length} components ready`,
        health: {
          ...initialHealth,
          status: failed ? 'degraded' : 'ok',
          ready: true,
          passes: snapshot.health.passes + 1,
        },
        source: { mode: 'in-process', connected: true, stale: false },
      });
    } catch (error) {
      publish({
        source: { mode: 'in-process', connected: false, stale: true, lastError: (error as Error).message },
        summary: 'the lab supervisor does not answer',
      });
    }
  };
  void poll();
  const timer = setInterval(() => void poll(), pollMs);
  return {
    name: 'lab',
    reader: {
      name: 'lab',
      getSnapshot: () => snapshot,
      subscribe: (l) => {
        listeners.add(l);
        return () => listeners.delete(l);
      },
      events: (from, limit) => journal.since(from, limit),
    },
    control: {
      preview: (name, args): Promise<ActionPreview> => {
        const action = chaosOf(name);
        const node = nodeOf(args);
        return Promise.resolve({
          action: name,
          allowed: true,
          summary: `${action}${node === '' ? '' : ` ${node}`}: ${what[action]}`,
          effects: ['the write probe runs through the write port around the fault and reports what it saw'],
        });
      },
      invoke: async (name, args): Promise<ActionResult> => {
        const action = chaosOf(name);
        const res = await callControl(dir, 'POST', '/chaos', { action, node: nodeOf(args) });
        if (res.status !== 200) return { action: name, ok: false, message: String(res.body.error) };
        const report = res.body as unknown as ChaosReport;
        const message = renderChaos(report)
          .trim()
          .split('\n')
          .join('; ')
          .replace(/\s{2,}/g, ' ');
        journal.append({ severity: 'info', kind: 'chaos', message, fields: { ...report } });
        void poll();
        return { action: name, ok: true, message, fields: { ...report } };
      },
    },
    close: () => {
      clearInterval(timer);
      return Promise.resolve();
    },
  };
}
