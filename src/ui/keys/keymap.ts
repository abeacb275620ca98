/**
 * Every key the console answers, in one table: handlers match commands, help and the footer are
 * generated from here, and read-only mode drops the dangerous entries.
 */
export type Command = 'up' | 'down' | 'top' | 'bottom' | 'next-pane' | 'select' | 'filter' | 'command' | 'view-1' | 'view-2' | 'view-3' | 'view-4' | 'help' | 'quit' | 'back';

export interface KeyBinding {
  readonly command: Command;
  readonly keys: readonly string[];
  readonly label: string;
  readonly description: string;
  readonly dangerous: boolean;
}

export const KEYMAP: readonly KeyBinding[] = [
  { command: 'up', keys: ['up', 'k'], label: '↑/k', description: 'move up', dangerous: false },
  { command: 'down', keys: ['down', 'j'], label: '↓/j', description: 'move down', dangerous: false },
  { command: 'top', keys: ['g'], label: 'g', description: 'go to the first row', dangerous: false },
  { command: 'bottom', keys: ['G'], label: 'G', description: 'go to the last row', dangerous: false },
  { command: 'next-pane', keys: ['tab'], label: 'tab', description: 'switch between agents and events', dangerous: false },
  { command: 'select', keys: ['return'], label: 'enter', description: 'open the selected row', dangerous: false },
  { command: 'view-1', keys: ['1'], label: '1', description: 'Overview', dangerous: false },
  { command: 'view-2', keys: ['2'], label: '2', description: 'Failover cluster', dangerous: false },
  { command: 'view-3', keys: ['3'], label: '3', description: 'History', dangerous: false },
  { command: 'view-4', keys: ['4'], label: '4', description: 'Events', dangerous: false },
  { command: 'command', keys: [':'], label: ':', description: 'switch view by name (:fo, :hist, :ev; tab completes)', dangerous: false },
  { command: 'filter', keys: ['/'], label: '/', description: 'filter events (regex, ! inverts)', dangerous: false },
  { command: 'help', keys: ['?'], label: '?', description: 'show or hide this help', dangerous: false },
  { command: 'back', keys: ['escape'], label: 'esc', description: 'back: close help or detail, clear the filter', dangerous: false },
  { command: 'quit', keys: ['q', 'ctrl+c'], label: 'q', description: 'quit', dangerous: false },
];

/** The key names Ink reports, as the table spells them. */
export function keyName(input: string, key: { upArrow?: boolean; downArrow?: boolean; tab?: boolean; escape?: boolean; ctrl?: boolean; return?: boolean }): string {
  if (key.return === true) return 'return';
  if (key.upArrow === true) return 'up';
  if (key.downArrow === true) return 'down';
  if (key.tab === true) return 'tab';
  if (key.escape === true) return 'escape';
  if (key.ctrl === true) return `ctrl+${input}`;
  return input;
}

export function commandFor(name: string, readonly: boolean, keymap: readonly KeyBinding[] = KEYMAP): Command | undefined {
  return keymap.find((b) => b.keys.includes(name) && !(readonly && b.dangerous))?.command;
}

export function visibleBindings(readonly: boolean, keymap: readonly KeyBinding[] = KEYMAP): KeyBinding[] {
  return keymap.filter((b) => !(readonly && b.dangerous));
}
