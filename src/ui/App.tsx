import { useRef, useState } from 'react';
import { Box, Text, useApp, useInput, useStdin, type Key } from 'ink';
import { AgentTable } from './components/AgentTable.js';
import { EventList } from './components/EventList.js';
import { Footer } from './components/Footer.js';
import { Header } from './components/Header.js';
import { HelpPane } from './components/HelpPane.js';
import { commandFor, keyName, visibleBindings, type Command } from './keys/keymap.js';
import { agentRows } from './rows/agent-rows.js';
import { eventRows } from './rows/event-rows.js';
import { parseFilter } from './rows/filter.js';
import { useTerminalSize, type TerminalSize } from './state/use-terminal-size.js';
import { useUi } from './state/use-ui.js';
import type { UiStore } from './state/ui-store.js';

export interface AppProps {
  readonly store: UiStore;
  readonly readonly: boolean;
  readonly context: { readonly kubeContext?: string; readonly namespace?: string };
  /** Size where the output stream has none (tests). */
  readonly size?: TerminalSize;
}

type Pane = 'agents' | 'events';

/** The first screen: agents with their health and decisions, and every agent's events. */
export function App({ store, readonly, context, size: fallback = { columns: 100, rows: 30 } }: AppProps) {
  const ui = useUi(store);
  const { exit } = useApp();
  const { isRawModeSupported } = useStdin();
  const { columns, rows: height } = useTerminalSize(fallback);
  const [pane, setPane] = useState<Pane>('agents');
  const [cursor, setCursor] = useState({ agents: 0, events: 0 });
  const [help, setHelp] = useState(false);
  const [filter, setFilterState] = useState({ text: '', editing: false });
  const filterRef = useRef(filter);
  const setFilter = (next: { text: string; editing: boolean }): void => {
    filterRef.current = next;
    setFilterState(next);
  };

  const bodyHeight = Math.max(5, height - 1 - 2);
  const agentHeight = Math.min(Math.max(2, ui.agents.length + 1), Math.max(2, Math.floor(bodyHeight / 3)));
  const eventHeight = bodyHeight - agentHeight - 1;
  const agents = agentRows(ui.agents);
  const parsed = parseFilter(filter.text);
  const events = eventRows(ui.events, 1000).filter((e) => !parsed.ok || parsed.test(`${e.agent} ${e.kind} ${e.message}`));
  const count = pane === 'agents' ? agents.length : events.length;

  const run = (command: Command): void => {
    const move = (to: number): void => setCursor((c) => ({ ...c, [pane]: Math.max(0, Math.min(count - 1, to)) }));
    switch (command) {
      case 'up':
        move(cursor[pane] - 1);
        return;
      case 'down':
        move(cursor[pane] + 1);
        return;
      case 'top':
        move(0);
        return;
      case 'bottom':
        move(count - 1);
        return;
      case 'next-pane':
        setPane((p) => (p === 'agents' ? 'events' : 'agents'));
        return;
      case 'filter':
        setPane('events');
        setFilter({ text: '', editing: true });
        return;
      case 'help':
        setHelp((h) => !h);
        return;
      case 'back':
        setHelp(false);
        setFilter({ text: '', editing: false });
        return;
      case 'quit':
        exit();
        return;
      default: {
        const unreachable: never = command;
        return unreachable;
      }
    }
  };

  const onKey = (input: string, key: Key): void => {
    const f = filterRef.current;
    if (f.editing) {
      if (key.escape) setFilter({ text: '', editing: false });
      else if (key.return) setFilter({ ...f, editing: false });
      else if (key.backspace || key.delete) setFilter({ ...f, text: f.text.slice(0, -1) });
      else if (!key.ctrl && !key.meta && input !== '') setFilter({ ...f, text: f.text + input });
      setCursor((c) => ({ ...c, events: 0 }));
      return;
    }
    const command = commandFor(keyName(input, key), readonly);
    if (command !== undefined) run(command);
  };

  useInput(
    (input, key) => {
      const plain = !key.ctrl && !key.meta && !key.return && !key.escape && !key.tab && !key.backspace && !key.delete;
      if (plain && input.length > 1) for (const ch of input) onKey(ch, { ...key });
      else onKey(input, key);
    },
    { isActive: isRawModeSupported === true },
  );

  const bindings = visibleBindings(readonly);
  return (
    <Box flexDirection="column" width={columns} height={height - 1}>
      <Header agents={ui.agents} readonly={readonly} context={context} />
      {help ? (
        <HelpPane bindings={bindings} height={bodyHeight} />
      ) : (
        <Box flexDirection="column" height={bodyHeight}>
          <AgentTable rows={agents} selected={cursor.agents} focused={pane === 'agents'} width={columns} height={agentHeight} />
          <Box height={1} />
          <EventList rows={events} selected={cursor.events} focused={pane === 'events'} height={eventHeight} />
        </Box>
      )}
      {filter.editing || filter.text !== '' ? (
        <Text wrap="truncate" color={parsed.ok ? 'cyan' : 'red'}>
          {parsed.ok ? `/${filter.text}${filter.editing ? '█' : ''}` : parsed.error}
        </Text>
      ) : (
        <Footer bindings={bindings} />
      )}
    </Box>
  );
}
