import { render } from 'ink';
import type { AgentHandle } from '../agents/kernel/snapshot.js';
import { App } from './App.js';
import type { ConsoleLauncher } from './launcher.js';
import { speedUpInkOutput } from './ink-output.js';
import { colorEnabled } from './theme.js';
import { CONSOLE_EVENT_CAPACITY, UiStore } from './state/ui-store.js';

export { CONSOLE_EVENT_CAPACITY };

export interface StartUiOptions {
  readonly handles: readonly AgentHandle[];
  /** Console-level commands that bring up more sources (the lab's `L` outside lab mode). */
  readonly launchers?: readonly ConsoleLauncher[];
  readonly readonly: boolean;
  readonly context: { readonly kubeContext?: string; readonly namespace?: string };
  /** The global `color` setting; NO_COLOR in the environment turns colour off whatever it says. */
  readonly color?: boolean;
  readonly env?: NodeJS.ProcessEnv;
  readonly stdin?: NodeJS.ReadStream;
  readonly stdout?: NodeJS.WriteStream;
  /** Closes the console as if the person quit. */
  readonly signal?: AbortSignal;
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
  await speedUpInkOutput();
  const store = new UiStore(
    options.handles.map((h) => ({
      reader: h.reader,
      control: h.control,
      ...(h.logs === undefined ? {} : { logs: h.logs }),
    })),
    { eventCapacity: CONSOLE_EVENT_CAPACITY },
  );
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
  const color = colorEnabled(options.color, options.env ?? process.env);
  const app = (
    <App
      store={store}
      readonly={options.readonly}
      context={options.context}
      color={color}
      {...(options.launchers === undefined ? {} : { launchers: options.launchers })}
    />
  );
  const instance = render(app, {
    stdout,
    stdin,
    exitOnCtrlC: true,
    patchConsole: false,
    incrementalRendering: false,
    maxFps: 30,
  });
  options.signal?.addEventListener('abort', onSignal, { once: true });
  try {
    await instance.waitUntilExit();
  } finally {
    options.signal?.removeEventListener('abort', onSignal);
    store.close();
    leave();
    process.off('exit', leave);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
  }
}
