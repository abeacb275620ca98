/**
 * Every key the console answers, in one table: handlers match commands, help and the footer are
 * generated from here, and read-only mode drops the dangerous entries.
 */
export type Command =
  | 'up'
  | 'down'
  | 'top'
  | 'bottom'
  | 'next-pane'
  | 'select'
  | 'filter'
  | 'command'
  | 'view-1'
  | 'view-2'
  | 'view-3'
  | 'view-4'
  | 'help'
  | 'quit'
  | 'back'
  | AgentCommand;

/** Commands that run an agent's action (the agent must offer it); all change something. */
export type AgentCommand = 'failover' | 'switchover' | 'pause' | 'reinit' | 'scale-up' | 'scale-down' | 'lab';

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
  {
    command: 'next-pane',
    keys: ['tab'],
    label: 'tab',
    description: 'switch between agents and events',
    dangerous: false,
  },
  { command: 'select', keys: ['return'], label: 'enter', description: 'open the selected row', dangerous: false },
  { command: 'view-1', keys: ['1'], label: '1', description: 'Overview', dangerous: false },
  { command: 'view-2', keys: ['2'], label: '2', description: 'Failover cluster', dangerous: false },
  { command: 'view-3', keys: ['3'], label: '3', description: 'History', dangerous: false },
  { command: 'view-4', keys: ['4'], label: '4', description: 'Events', dangerous: false },
  {
    command: 'command',
    keys: [':'],
    label: ':',
    description: 'switch view by name (:fo, :hist, :ev; tab completes)',
    dangerous: false,
  },
  { command: 'filter', keys: ['/'], label: '/', description: 'filter events (regex, ! inverts)', dangerous: false },
  { command: 'help', keys: ['?'], label: '?', description: 'show or hide this help', dangerous: false },
  {
    command: 'back',
    keys: ['escape'],
    label: 'esc',
    description: 'back: close help or detail, clear the filter',
    dangerous: false,
  },
  { command: 'failover', keys: ['f'], label: 'f', description: 'fail over to the selected replica', dangerous: true },
  {
    command: 'switchover',
    keys: ['s'],
    label: 's',
    description: 'switch over (to the selected replica, or the best)',
    dangerous: true,
  },
  { command: 'pause', keys: ['p'], label: 'p', description: 'pause or resume automatic failover', dangerous: true },
  { command: 'reinit', keys: ['r'], label: 'r', description: 'reinit the selected replica', dangerous: true },
  { command: 'scale-up', keys: ['+'], label: '+', description: 'scale up by one', dangerous: true },
  { command: 'scale-down', keys: ['-'], label: '-', description: 'scale down by one', dangerous: true },
  { command: 'lab', keys: ['L'], label: 'L', description: 'set up the lab', dangerous: true },
  { command: 'quit', keys: ['q', 'ctrl+c'], label: 'q', description: 'quit', dangerous: false },
];

/** The key names Ink reports, as the table spells them. */
export function keyName(
  input: string,
  key: { upArrow?: boolean; downArrow?: boolean; tab?: boolean; escape?: boolean; ctrl?: boolean; return?: boolean },
): string {
  if (key.return === true) return 'return';
  if (key.upArrow === true) return 'up';
  if (key.downArrow === true) return 'down';
  if (key.tab === true) return 'tab';
  if (key.escape === true) return 'escape';
  if (key.ctrl === true) return `ctrl+${input}`;
  return input;
}

export function commandFor(
  name: string,
  readonly: boolean,
  keymap: readonly KeyBinding[] = KEYMAP,
): Command | undefined {
  return keymap.find((b) => b.keys.includes(name) && !(readonly && b.dangerous))?.command;
}

/** What the footer and help show: no dangerous keys in read-only mode, and only the actions some agent offers. */
export function visibleBindings(
  readonly: boolean,
  keymap: readonly KeyBinding[] = KEYMAP,
  offered: (command: Command) => boolean = () => true,
): KeyBinding[] {
  return keymap.filter((b) => !(readonly && b.dangerous) && offered(b.command));
}
