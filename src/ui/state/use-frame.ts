import { useRef, useSyncExternalStore } from 'react';
import type { ConsoleState } from './console-state.js';
import { sameFrame, type Frame } from './frame.js';
import type { Screen } from './screen.js';
import type { UiSnapshot, UiStore } from './ui-store.js';

/**
 * The frame to draw, read from the store like `useSyncExternalStore` does, but the same object as
 * before while a flush changes nothing that is drawn (events streaming under the Overview, a source
 * whose state moved where no row shows it): React then renders nothing and Ink writes nothing.
 */
export function useFrame(
  store: UiStore,
  state: () => ConsoleState,
  derive: (ui: UiSnapshot, state: ConsoleState) => Screen,
  headerText: (ui: UiSnapshot, screen: Screen) => string,
): Frame {
  const last = useRef<{ ui: UiSnapshot; state: ConsoleState; frame: Frame } | undefined>(undefined);
  const read = (): Frame => {
    const ui = store.getSnapshot();
    const s = state();
    const seen = last.current;
    if (seen !== undefined && seen.ui === ui && seen.state === s) return seen.frame;
    const next: Frame = { ui, state: s, screen: derive(ui, s) };
    const frame = seen !== undefined && sameFrame(seen.frame, next, headerText) ? seen.frame : next;
    last.current = { ui, state: s, frame };
    return frame;
  };
  return useSyncExternalStore(store.subscribe, read);
}
