/**
 * The shared keys, in one table: handlers match commands, help and the footer are generated from
 * here and from the modules' commands, and read-only mode drops the dangerous ones. Number keys come
 * from the views' order, sort keys from the current view's columns.
 */
export type SharedCommand =
  | 'up'
  | 'down'
  | 'page-up'
  | 'page-down'
  | 'top'
  | 'bottom'
  | 'next-pane'
  | 'select'
  | 'logs'
  | 'yaml'
  | 'filter'
  | 'command'
  | 'help'
  | 'back'
  | 'quit';

export interface KeyBinding {
  readonly command: string;
  readonly keys: readonly string[];
  readonly label: string;
  readonly description: string;
  /** The footer's word or two. */
  readonly hint: string;
  readonly dangerous: boolean;
}

export interface SharedBinding extends KeyBinding {
  readonly command: SharedCommand;
}

const key = (
  command: SharedCommand,
  keys: readonly string[],
  label: string,
  hint: string,
  description: string,
): SharedBinding => ({ command, keys, label, hint, description, dangerous: false });

export const SHARED_KEYS: readonly SharedBinding[] = [
  key('select', ['return'], 'enter', 'detail', 'open the selected row (detail pane)'),
  key('logs', ['l'], 'l', 'logs', "tail the selected instance's logs (every source it offers)"),
  key('yaml', ['y'], 'y', 'yaml', "the selected entity's state as YAML"),
  key('filter', ['/'], '/', 'filter', "filter the view's rows (regex, ! inverts)"),
  key('command', [':'], ':', 'cmd', 'go to a view by name (:fo, :hist, :ev; tab completes; :q quits, :help)'),
  key('help', ['?'], '?', 'help', 'show or hide this help'),
  key('quit', ['q', 'ctrl+c'], 'q', 'quit', 'quit'),
  key('up', ['up', 'k'], '↑/k', 'up', 'move up'),
  key('down', ['down', 'j'], '↓/j', 'down', 'move down'),
  key('page-up', ['pageup', 'ctrl+b'], 'pgup', 'page up', 'one page up'),
  key('page-down', ['pagedown', 'ctrl+f'], 'pgdn', 'page down', 'one page down'),
  key('top', ['g'], 'g', 'top', 'go to the first row'),
  key('bottom', ['G'], 'G', 'bottom', 'go to the last row'),
  key('next-pane', ['tab'], 'tab', 'pane', 'next table of the view'),
  key('back', ['escape'], 'esc', 'back', 'back: close the pane, clear the filter'),
];

/** The key names Ink reports, as the tables spell them. */
export function keyName(
  input: string,
  key: {
    upArrow?: boolean;
    downArrow?: boolean;
    pageUp?: boolean;
    pageDown?: boolean;
    tab?: boolean;
    escape?: boolean;
    ctrl?: boolean;
    return?: boolean;
    backspace?: boolean;
    delete?: boolean;
  },
): string {
  if (key.return === true) return 'return';
  if (key.upArrow === true) return 'up';
  if (key.downArrow === true) return 'down';
  if (key.pageUp === true) return 'pageup';
  if (key.pageDown === true) return 'pagedown';
  if (key.tab === true) return 'tab';
  if (key.escape === true) return 'escape';
  if (key.backspace === true || key.delete === true) return 'backspace';
  if (key.ctrl === true) return `ctrl+${input}`;
  return input;
}

export function bindingFor<B extends { readonly keys: readonly string[] }>(
  name: string,
  bindings: readonly B[],
): B | undefined {
  return bindings.find((b) => b.keys.includes(name));
}
