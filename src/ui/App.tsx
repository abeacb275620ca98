import { useMemo, useRef, useState } from 'react';
import { Box, useApp, useInput, useStdin } from 'ink';
import { Body } from './components/Body.js';
import { StatusLine } from './components/StatusLine.js';
import { Footer } from './components/Footer.js';
import { Header, headerSummary } from './components/Header.js';
import { keyPresses } from './keys/chunk.js';
import type { ConsoleLauncher } from './launcher.js';
import type { UiModule } from './module.js';
import { MODULES } from './registry.js';
import { initialState, type ConsoleState } from './state/console-state.js';
import { footerItems } from './state/panes.js';
import { press } from './state/press.js';
import { ScreenDeriver, type Screen } from './state/screen.js';
import { actionRunner } from './state/action-runner.js';
import { useFrame } from './state/use-frame.js';
import { useTerminalSize, type TerminalSize } from './state/use-terminal-size.js';
import type { UiStore } from './state/ui-store.js';
import { PaintContext, colorful, colorless } from './theme.js';
import { viewCatalog } from './views/catalog.js';

export interface AppProps {
  readonly store: UiStore;
  readonly readonly: boolean;
  readonly context: { readonly kubeContext?: string; readonly namespace?: string };
  /** A fixed size instead of the terminal's (tests). */
  readonly size?: TerminalSize;
  readonly now?: () => number;
  readonly initialView?: string;
  /** False: no colours (NO_COLOR, the `color` setting). */
  readonly color?: boolean;
  readonly modules?: readonly UiModule[];
  /** Console-level launchers (the lab's `L`), handed in by the composition root. */
  readonly launchers?: readonly ConsoleLauncher[];
}

const NO_LAUNCHERS: readonly ConsoleLauncher[] = [];

/** Routes: keys to the pure reducer and its effects, the derived screen to the components. */
export function App({
  store,
  readonly,
  context,
  size,
  now = Date.now,
  initialView = 'overview',
  color = true,
  modules = MODULES,
  launchers = NO_LAUNCHERS,
}: AppProps) {
  const { exit } = useApp();
  const { isRawModeSupported } = useStdin();
  const { columns, rows: height } = useTerminalSize(size);
  const views = useMemo(() => viewCatalog(modules), [modules]);
  const deriver = useMemo(() => new ScreenDeriver(views, modules, now, launchers), [views, modules, now, launchers]);
  const [state, setState] = useState<ConsoleState>(() => initialState(initialView));
  const stateRef = useRef(state);
  const update = (change: (s: ConsoleState) => ConsoleState): void => {
    stateRef.current = change(stateRef.current);
    setState(stateRef.current);
  };
  const runner = useMemo(() => actionRunner(store, modules, update), [store, modules]);
  const { ui, screen } = useFrame(
    store,
    () => stateRef.current,
    (snapshot, s) => deriver.derive(snapshot, s, readonly),
    (snapshot, shown) => headerSummary(snapshot.sources, shown.ctx.groups),
  );
  const statusShown = (s: ConsoleState, screen: Screen): boolean =>
    screen.filterError !== undefined || s.prompt.kind !== 'none' || s.message !== '' || s.filter !== '';
  const bodyOf = (s: ConsoleState, screen: Screen): number =>
    Math.max(3, height - 1 - 2 - (statusShown(s, screen) ? 1 : 0));

  useInput(
    (input, key) => {
      for (const k of keyPresses(input, key)) {
        const screen = deriver.derive(store.getSnapshot(), stateRef.current, readonly);
        const result = press(stateRef.current, k, screen, {
          views,
          readonly,
          page: bodyOf(stateRef.current, screen) - 3,
        });
        update(() => result.state);
        for (const effect of result.effects) {
          switch (effect.kind) {
            case 'exit':
              exit();
              break;
            case 'act':
              runner.start(effect.command, effect.row, screen);
              break;
            case 'confirm':
              runner.confirm(effect.pending, effect.yes);
              break;
            case 'launch':
              runner.launch(effect.launcher);
              break;
            case 'launch-confirm':
              runner.confirmLaunch(effect.launcher, effect.preview, effect.yes);
              break;
            case 'logs':
              runner.logs(effect.row, screen);
              break;
            case 'yaml':
              runner.yaml(effect.title, effect.value);
              break;
            default: {
              const unreachable: never = effect;
              return unreachable;
            }
          }
        }
      }
    },
    { isActive: isRawModeSupported === true },
  );

  const body = bodyOf(state, screen);
  return (
    <PaintContext.Provider value={color ? colorful : colorless}>
      <Box flexDirection="column" width={columns} height={height - 1}>
        <Header
          sources={ui.sources}
          groups={screen.ctx.groups}
          readonly={readonly}
          context={context}
          view={screen.view.title}
          width={columns}
          now={now}
        />
        <Body state={state} screen={screen} width={columns} height={body} now={now} views={views} readonly={readonly} />
        {statusShown(state, screen) ? <StatusLine state={state} screen={screen} /> : null}
        <Footer items={footerItems(screen)} />
      </Box>
    </PaintContext.Provider>
  );
}
