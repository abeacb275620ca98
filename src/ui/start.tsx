import { render } from 'ink';
import type { AgentHandle } from '../agents/kernel/snapshot.js';
import { App } from './App.js';
import { ActionsContext } from './state/agent-actions.js';
import { UiStore } from './state/ui-store.js';

export interface StartUiOptions {
  readonly handles: readonly AgentHandle[];
  readonly readonly: boolean;
  /** Colors on (false from `--no-color`, `NO_COLOR` or `color: false` in the config). */
  readonly color: boolean;
  readonly context: { readonly kubeContext?: string; readonly namespace?: string };
  readonly stdin?: NodeJS.ReadStream;
  readonly stdout?: NodeJS.WriteStream;
}

const ENTER_ALT = '\x1b[?1049h\x1b[H';
const LEAVE_ALT = '\x1b[?1049l';

/**
 * The console, full screen on the alternate buffer (restored on exit, crash and signals); resolves
 * when the person quits.
 */
export async function startUi(options: StartUiOptions): Promise<void> {
  const stdout = options.stdout ?? process.stdout;
  const stdin = options.stdin ?? process.stdin;
  const store = new UiStore(options.handles.map((h) => h.reader));
  let left = false;
  const leave = (): void => {
    if (left) return;
    left = true;
    stdout.write(LEAVE_ALT);
  };
  const onSignal = (): void => {
    leave();
    instance.unmount();
  };
  stdout.write(ENTER_ALT);
  process.once('exit', leave);
  process.once('SIGTERM', onSignal);
  process.once('SIGHUP', onSignal);
  const controls = new Map(options.handles.map((h) => [h.name, h.control]));
  const app = (
    <ActionsContext.Provider value={controls}>
      <App store={store} readonly={options.readonly} context={options.context} />
    </ActionsContext.Provider>
  );
  const instance = render(app, {
    stdout,
    stdin,
    exitOnCtrlC: true,
    patchConsole: false,
    incrementalRendering: false,
    maxFps: 30,
  });
  try {
    await instance.waitUntilExit();
  } finally {
    store.close();
    leave();
    process.off('exit', leave);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
  }
}
