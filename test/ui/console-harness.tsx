import { render } from 'ink-testing-library';
import type { FailoverState } from '../../src/agents/failover/types.js';
import { startAgent, type RunningAgent } from '../../src/agents/kernel/runtime.js';
import type { SourceInfo } from '../../src/agents/kernel/snapshot.js';
import { AgentStore } from '../../src/agents/kernel/store.js';
import { App } from '../../src/ui/App.js';
import type { ConsoleLauncher } from '../../src/ui/launcher.js';
import type { ConsoleSource } from '../../src/ui/state/sources.js';
import { UiStore } from '../../src/ui/state/ui-store.js';
import { settle } from '../helpers/render-ui.js';
import { failoverDaemon, type DaemonConfig, type Recorder } from '../fixtures/ui/failover-like-agent.js';
import { NOW } from '../fixtures/ui/failover-state.js';

export const tick = (ms = 20): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A daemon's published face as an attached console sees it: identity from its state, a source that is live or not. */
export function daemonStore(
  state: FailoverState,
  opts: { live?: boolean; lastError?: string; at?: number; url?: string } = {},
): AgentStore {
  const url = opts.url ?? `http://127.0.0.1:${8000 + Number(state.self.slice(-1))}/${state.cluster}`;
  const live = opts.live ?? true;
  const source: SourceInfo = {
    mode: 'attached',
    url,
    connected: live,
    stale: !live,
    ...(opts.lastError === undefined ? {} : { lastError: opts.lastError }),
  };
  const store = new AgentStore('failover', {
    now: () => opts.at ?? NOW,
    source,
    identity: {
      kind: 'failover',
      entity: state.cluster,
      instance: `${state.cluster}/${state.self}`,
      label: state.self,
    },
  });
  store.update({
    state,
    summary: `${state.self} is in step`,
    actions: ['switchover', 'failover', 'pause', 'resume', 'reinit'].map((name) => ({
      name,
      description: name,
      dangerous: true,
      args: '',
    })),
    health: { status: 'ok', live: true, ready: true, passes: 3, consecutiveErrors: 0, dependencies: {} },
  });
  return store;
}

export type Daemon = RunningAgent<DaemonConfig, Recorder, FailoverState>;

/** Real kernel runtimes over the daemon double, one per state: previews and invokes are audited by the kernel. */
export async function startDaemons(states: readonly FailoverState[]): Promise<Daemon[]> {
  return Promise.all(states.map((state) => startAgent(failoverDaemon, { state })));
}

export interface ShowOptions {
  readonly size?: { columns: number; rows: number };
  readonly readonly?: boolean;
  readonly color?: boolean;
  readonly view?: string;
  readonly now?: () => number;
  readonly launchers?: readonly ConsoleLauncher[];
}

/** The console over `sources` at a fixed size; `press` writes a chunk and waits for the frames to settle. */
export async function showConsole(sources: readonly ConsoleSource[], opts: ShowOptions = {}) {
  const ui = new UiStore(sources, { maxFlushesPerSecond: 100 });
  const app = render(
    <App
      store={ui}
      readonly={opts.readonly ?? false}
      context={{ namespace: 'pg-prod', kubeContext: 'lab' }}
      size={opts.size ?? { columns: 160, rows: 48 }}
      now={opts.now ?? (() => NOW)}
      color={opts.color ?? true}
      {...(opts.view === undefined ? {} : { initialView: opts.view })}
      {...(opts.launchers === undefined ? {} : { launchers: opts.launchers })}
    />,
  );
  await tick(30);
  await settle(app.frames);
  return {
    ...app,
    ui,
    frame: (): string => app.lastFrame() ?? '',
    lines: (): string[] => (app.lastFrame() ?? '').split('\n'),
    selected: (): string => (app.lastFrame() ?? '').split('\n').find((l) => l.startsWith('▶ ')) ?? '',
    press: async (keys: string): Promise<void> => {
      app.stdin.write(keys);
      await settle(app.frames);
    },
  };
}

/** Presses j until the selected row matches `pattern` (at most `limit` times). */
export async function selectRow(
  c: Awaited<ReturnType<typeof showConsole>>,
  pattern: RegExp,
  limit = 30,
): Promise<string> {
  await c.press('g');
  for (let i = 0; i < limit && !pattern.test(c.selected()); i++) await c.press('j');
  return c.selected();
}
