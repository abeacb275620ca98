import type { ActionPreview } from '../../agents/kernel/snapshot.js';
import type { ConsoleLauncher } from '../launcher.js';
import type { ModuleCommand, PendingAction, TableRow } from '../module.js';
import type { SortOrder } from '../rows/sort.js';

export type Overlay =
  | { readonly kind: 'none' }
  | { readonly kind: 'help'; readonly scroll: number }
  /** Detail, YAML and logs: lines with a title, scrolled with j/k. */
  | {
      readonly kind: 'text';
      readonly id: number;
      readonly title: string;
      readonly lines: readonly string[];
      readonly scroll: number;
    }
  | { readonly kind: 'confirm'; readonly pending: PendingAction }
  /** A launcher's preview, asking before it runs. */
  | { readonly kind: 'launch'; readonly launcher: ConsoleLauncher; readonly preview: ActionPreview };

export interface Prompt {
  readonly kind: 'none' | 'filter' | 'command';
  readonly text: string;
}

/** The console's own state: which view, what is selected, sorted, filtered, typed and shown on top. */
export interface ConsoleState {
  readonly view: string;
  readonly pane: number;
  /** The selected row's key per table slot (`view/table`), so a selection follows its row. */
  readonly selected: Readonly<Record<string, string>>;
  /** Where the selection was, for when its row goes away. */
  readonly index: Readonly<Record<string, number>>;
  readonly sort: Readonly<Record<string, SortOrder>>;
  readonly filter: string;
  readonly prompt: Prompt;
  readonly overlay: Overlay;
  readonly message: string;
}

/** What a key press asks the App to do beyond changing the state. */
export type Effect =
  | { readonly kind: 'exit' }
  | { readonly kind: 'act'; readonly command: ModuleCommand; readonly row: TableRow | undefined }
  | { readonly kind: 'confirm'; readonly pending: PendingAction; readonly yes: boolean }
  | { readonly kind: 'launch'; readonly launcher: ConsoleLauncher }
  | {
      readonly kind: 'launch-confirm';
      readonly launcher: ConsoleLauncher;
      readonly preview: ActionPreview;
      readonly yes: boolean;
    }
  | { readonly kind: 'logs'; readonly row: TableRow }
  | { readonly kind: 'yaml'; readonly title: string; readonly value: unknown };

export function initialState(view: string): ConsoleState {
  return {
    view,
    pane: 0,
    selected: {},
    index: {},
    sort: {},
    filter: '',
    prompt: { kind: 'none', text: '' },
    overlay: { kind: 'none' },
    message: '',
  };
}

let panes = 0;

/** A new text pane's id: late answers (logs) fill only the pane they were asked for. */
export function nextPaneId(): number {
  panes += 1;
  return panes;
}
