import type { KeyPress } from '../keys/chunk.js';
import { bindingFor, SHARED_KEYS, type SharedCommand } from '../keys/keymap.js';
import type { ViewDef } from '../module.js';
import { completePrompt, promptTarget } from '../views/catalog.js';
import { nextPaneId, type ConsoleState, type Effect } from './console-state.js';
import { detailLines, helpLines, yamlSubject } from './panes.js';
import { tableSlot, type Screen } from './screen.js';

export interface Pressed {
  readonly state: ConsoleState;
  readonly effects: readonly Effect[];
}

export interface PressEnv {
  readonly views: readonly ViewDef[];
  readonly readonly: boolean;
  /** Body lines a page holds (page keys and pane scrolling). */
  readonly page: number;
}

const done = (state: ConsoleState, ...effects: Effect[]): Pressed => ({ state, effects });

/** One key press: the next state and what else must happen. Pure apart from numbering new panes. */
export function press(state: ConsoleState, key: KeyPress, screen: Screen, env: PressEnv): Pressed {
  const { overlay, prompt } = state;
  if (overlay.kind === 'confirm') {
    const next = { ...state, overlay: { kind: 'none' } as const };
    if (key.name === 'y' || key.name === 'return')
      return done(next, { kind: 'confirm', pending: overlay.pending, yes: true });
    if (key.name === 'n' || key.name === 'escape')
      return done(next, { kind: 'confirm', pending: overlay.pending, yes: false });
    return done(state);
  }
  if (overlay.kind === 'launch') {
    const answer =
      key.name === 'y' || key.name === 'return' ? true : key.name === 'n' || key.name === 'escape' ? false : undefined;
    if (answer === undefined) return done(state);
    const { launcher, preview } = overlay;
    return done({ ...state, overlay: { kind: 'none' } }, { kind: 'launch-confirm', launcher, preview, yes: answer });
  }
  if (prompt.kind !== 'none') return edit(state, key, env);
  if (overlay.kind === 'help' || overlay.kind === 'text') return inPane(state, key, screen, env);
  const shared = bindingFor(key.name, SHARED_KEYS);
  if (shared !== undefined) return run(state, shared.command, screen, env);
  const command = bindingFor(key.name, screen.commands);
  if (command !== undefined) return done({ ...state, message: '' }, { kind: 'act', command, row: screen.row });
  const launcher = bindingFor(key.name, screen.launchers);
  if (launcher !== undefined) return done({ ...state, message: '' }, { kind: 'launch', launcher });
  const number = /^[1-9]$/.test(key.name) ? env.views[Number(key.name) - 1] : undefined;
  if (number !== undefined) return done(show(state, number.id));
  const table = screen.tables[screen.focused];
  const column = table?.columns.findIndex((c) => c.sortKey === key.name) ?? -1;
  if (table !== undefined && column >= 0) {
    const slot = tableSlot(screen.view.id, table.id);
    const was = state.sort[slot];
    const order = { column, descending: was?.column === column ? !was.descending : false };
    return done({ ...state, sort: { ...state.sort, [slot]: order } });
  }
  return done(state);
}

function show(state: ConsoleState, view: string): ConsoleState {
  return { ...state, view, pane: 0, filter: '', overlay: { kind: 'none' }, message: '' };
}

function pane(title: string, lines: readonly string[]): ConsoleState['overlay'] {
  return { kind: 'text', id: nextPaneId(), title, lines, scroll: 0 };
}

function run(state: ConsoleState, command: SharedCommand, screen: Screen, env: PressEnv): Pressed {
  const table = screen.tables[screen.focused];
  const row = screen.row;
  const move = (to: (at: number, count: number) => number): Pressed => {
    if (table === undefined || table.rows.length === 0) return done(state);
    const at = Math.max(0, Math.min(table.rows.length - 1, to(table.selected, table.rows.length)));
    const slot = tableSlot(screen.view.id, table.id);
    return done({
      ...state,
      selected: { ...state.selected, [slot]: table.rows[at]!.key },
      index: { ...state.index, [slot]: at },
    });
  };
  switch (command) {
    case 'up':
      return move((at) => at - 1);
    case 'down':
      return move((at) => at + 1);
    case 'page-up':
      return move((at) => at - env.page);
    case 'page-down':
      return move((at) => at + env.page);
    case 'top':
      return move(() => 0);
    case 'bottom':
      return move((_, count) => count - 1);
    case 'next-pane':
      return done({ ...state, pane: (screen.focused + 1) % Math.max(1, screen.tables.length) });
    case 'select':
      if (row === undefined || table === undefined) return done({ ...state, message: 'no row selected' });
      return done({ ...state, overlay: pane(`${screen.view.title}: ${row.key}`, detailLines(screen, table, row)) });
    case 'logs':
      if (row?.instance === undefined)
        return done({
          ...state,
          message: 'select a row of one agent instance (a member, an event, a source) for its logs',
        });
      return done({ ...state, message: '' }, { kind: 'logs', row });
    case 'yaml': {
      const subject = yamlSubject(screen, row);
      if (typeof subject === 'string') return done({ ...state, message: subject });
      return done({ ...state, message: '' }, { kind: 'yaml', ...subject });
    }
    case 'filter':
      return done({ ...state, prompt: { kind: 'filter', text: '' }, filter: '', message: '' });
    case 'command':
      return done({ ...state, prompt: { kind: 'command', text: '' }, message: '' });
    case 'help':
      return done({ ...state, overlay: { kind: 'help', scroll: 0 } });
    case 'back':
      return done({ ...state, filter: '', message: '' });
    case 'quit':
      return done(state, { kind: 'exit' });
    default: {
      const unreachable: never = command;
      return unreachable;
    }
  }
}

function edit(state: ConsoleState, key: KeyPress, env: PressEnv): Pressed {
  const p = state.prompt;
  const none = { kind: 'none', text: '' } as const;
  const typed = (text: string): Pressed =>
    done({ ...state, prompt: { ...p, text }, ...(p.kind === 'filter' ? { filter: text } : {}) });
  switch (key.name) {
    case 'escape':
      return done({ ...state, prompt: none, ...(p.kind === 'filter' ? { filter: '' } : {}) });
    case 'backspace':
      return typed(p.text.slice(0, -1));
    case 'tab':
      return p.kind === 'command' ? typed(completePrompt(env.views, p.text)) : done(state);
    case 'return': {
      if (p.kind === 'filter') return done({ ...state, prompt: none });
      const target = promptTarget(env.views, p.text);
      const closed = { ...state, prompt: none };
      if (target === undefined)
        return done({
          ...closed,
          message: `unknown command :${p.text} (try ${env.views.map((v) => `:${v.aliases[0]}`).join(' ')} :help :q)`,
        });
      if (target.kind === 'quit') return done(closed, { kind: 'exit' });
      if (target.kind === 'help') return done({ ...closed, overlay: { kind: 'help', scroll: 0 } });
      return done(show(closed, target.view.id));
    }
    default:
      return key.text === '' ? done(state) : typed(p.text + key.text);
  }
}

function inPane(state: ConsoleState, key: KeyPress, screen: Screen, env: PressEnv): Pressed {
  const overlay = state.overlay;
  if (overlay.kind !== 'help' && overlay.kind !== 'text') return done(state);
  const shared = bindingFor(key.name, SHARED_KEYS)?.command;
  const lines = overlay.kind === 'text' ? overlay.lines.length : helpLines(screen, env.views, env.readonly).length;
  const last = Math.max(0, lines - env.page);
  const scroll = (by: number): Pressed =>
    done({ ...state, overlay: { ...overlay, scroll: Math.max(0, Math.min(last, overlay.scroll + by)) } });
  switch (shared) {
    case 'up':
      return scroll(-1);
    case 'down':
      return scroll(1);
    case 'page-up':
      return scroll(-env.page);
    case 'page-down':
      return scroll(env.page);
    case 'top':
      return done({ ...state, overlay: { ...overlay, scroll: 0 } });
    case 'bottom':
      return scroll(lines);
    case 'back':
    case 'help':
      return done({ ...state, overlay: { kind: 'none' } });
    case 'quit':
      return done(state, { kind: 'exit' });
    case 'command':
    case 'filter':
    case 'logs':
    case 'next-pane':
    case 'select':
    case 'yaml':
    case undefined:
      return done(state);
    default: {
      const unreachable: never = shared;
      return unreachable;
    }
  }
}
