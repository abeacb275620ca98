import { useContext, useRef, useState, type ReactNode } from 'react';
import { Box, Text, useApp, useInput, useStdin, type Key } from 'ink';
import { ConfirmPane } from './components/ConfirmPane.js';
import { EventList } from './components/EventList.js';
import { Footer } from './components/Footer.js';
import { Header } from './components/Header.js';
import { HelpPane } from './components/HelpPane.js';
import { KEYMAP, commandFor, keyName, visibleBindings, type AgentCommand, type Command } from './keys/keymap.js';
import { eventRows } from './rows/event-rows.js';
import { historyRows, memberRows } from './rows/failover-rows.js';
import { parseFilter } from './rows/filter.js';
import {
  ActionsContext,
  isAgentCommand,
  offeringAgent,
  planAction,
  type PendingAction,
} from './state/agent-actions.js';
import { useTerminalSize, type TerminalSize } from './state/use-terminal-size.js';
import { useUi } from './state/use-ui.js';
import type { UiStore } from './state/ui-store.js';
import { FailoverView } from './views/FailoverView.js';
import { HistoryView } from './views/HistoryView.js';
import { OverviewView } from './views/OverviewView.js';
import { VIEWS, completeCommand, viewForCommand, type ViewId } from './views/registry.js';

export interface AppProps {
  readonly store: UiStore;
  readonly readonly: boolean;
  readonly context: { readonly kubeContext?: string; readonly namespace?: string };
  /** Size where the output stream has none (tests). */
  readonly size?: TerminalSize;
  readonly now?: () => number;
  readonly initialView?: ViewId;
}

type Cursor = 'agents' | 'events' | 'failover' | 'history' | 'journal';
interface Prompt {
  readonly kind: 'filter' | 'command' | 'none';
  readonly text: string;
  readonly editing: boolean;
}

/** Routes keys to commands and the current view; views render, rows/ format. */
export function App({
  store,
  readonly,
  context,
  size: fallback = { columns: 100, rows: 30 },
  now = Date.now,
  initialView = 'overview',
}: AppProps) {
  const ui = useUi(store);
  const { exit } = useApp();
  const { isRawModeSupported } = useStdin();
  const { columns, rows: height } = useTerminalSize(fallback);
  const [view, setView] = useState<ViewId>(initialView);
  const [pane, setPane] = useState<'agents' | 'events'>('agents');
  const [cursor, setCursor] = useState<Record<Cursor, number>>({
    agents: 0,
    events: 0,
    failover: 0,
    history: 0,
    journal: 0,
  });
  const [help, setHelp] = useState(false);
  const [detail, setDetail] = useState(false);
  const [message, setMessage] = useState('');
  const controls = useContext(ActionsContext);
  const [pending, setPendingState] = useState<PendingAction | undefined>(undefined);
  const pendingRef = useRef(pending);
  const setPending = (next: PendingAction | undefined): void => {
    pendingRef.current = next;
    setPendingState(next);
  };
  const [prompt, setPromptState] = useState<Prompt>({ kind: 'none', text: '', editing: false });
  const promptRef = useRef(prompt);
  const setPrompt = (next: Prompt): void => {
    promptRef.current = next;
    setPromptState(next);
  };

  const bodyHeight = Math.max(5, height - 1 - 2);
  const filter = parseFilter(prompt.kind === 'filter' ? prompt.text : '');
  const events = eventRows(ui.events, 1000).filter(
    (e) => !filter.ok || filter.test(`${e.agent} ${e.kind} ${e.message}`),
  );
  const members = memberRows(ui.agents, now());
  const history = historyRows(ui.agents);
  const cursorKey: Cursor = view === 'overview' ? pane : view === 'events' ? 'journal' : view;
  const counts: Record<Cursor, number> = {
    agents: ui.agents.length,
    events: events.length,
    journal: events.length,
    failover: members.length,
    history: history.length,
  };

  const startAction = (command: AgentCommand): void => {
    const selected = view === 'failover' ? members[cursor.failover]?.member : undefined;
    const plan = planAction(ui.agents, command, selected);
    const control = typeof plan === 'string' ? undefined : controls.get(plan.agent);
    if (typeof plan === 'string' || control === undefined)
      return setMessage(typeof plan === 'string' ? plan : `no control for ${plan.agent}`);
    setMessage(`asking ${plan.agent} what ${plan.action} would do...`);
    control.preview(plan.action, plan.args, { who: 'console', via: 'tui' }).then(
      (preview) => {
        setMessage('');
        setPending({ ...plan, preview });
      },
      (error: unknown) => setMessage(`${plan.action}: ${(error as Error).message}`),
    );
  };

  const confirm = (p: PendingAction, yes: boolean): void => {
    setPending(undefined);
    const control = controls.get(p.agent);
    if (!yes || !p.preview.allowed || control === undefined) return setMessage(yes ? '' : `${p.action} cancelled`);
    setMessage(`${p.action} running...`);
    control.invoke(p.action, p.args, { who: 'console', via: 'tui' }).then(
      (result) => setMessage(`${p.action}: ${result.ok ? 'done' : 'refused'}: ${result.message}`),
      (error: unknown) => setMessage(`${p.action} failed: ${(error as Error).message}`),
    );
  };

  const show = (id: ViewId): void => {
    setView(id);
    setDetail(false);
    setMessage('');
  };

  const run = (command: Command): void => {
    const move = (to: (at: number) => number): void =>
      setCursor((c) => ({ ...c, [cursorKey]: Math.max(0, Math.min(counts[cursorKey] - 1, to(c[cursorKey]))) }));
    switch (command) {
      case 'up':
        return move((at) => at - 1);
      case 'down':
        return move((at) => at + 1);
      case 'top':
        return move(() => 0);
      case 'bottom':
        return move(() => counts[cursorKey] - 1);
      case 'next-pane':
        if (view === 'overview') setPane((p) => (p === 'agents' ? 'events' : 'agents'));
        return;
      case 'select':
        if (view === 'history' && counts.history > 0) setDetail(true);
        return;
      case 'view-1':
      case 'view-2':
      case 'view-3':
      case 'view-4':
        return show(VIEWS[Number(command.slice(-1)) - 1]!.id);
      case 'command':
        return setPrompt({ kind: 'command', text: '', editing: true });
      case 'filter':
        if (view === 'overview') setPane('events');
        return setPrompt({ kind: 'filter', text: '', editing: true });
      case 'help':
        return setHelp((h) => !h);
      case 'back':
        setHelp(false);
        setDetail(false);
        setMessage('');
        return setPrompt({ kind: 'none', text: '', editing: false });
      case 'quit':
        return exit();
      case 'failover':
      case 'switchover':
      case 'pause':
      case 'reinit':
      case 'scale-up':
      case 'scale-down':
      case 'lab':
        return startAction(command);
      default: {
        const unreachable: never = command;
        return unreachable;
      }
    }
  };

  const edit = (p: Prompt, input: string, key: Key): void => {
    if (key.escape) return setPrompt({ kind: 'none', text: '', editing: false });
    if (key.backspace || key.delete) return setPrompt({ ...p, text: p.text.slice(0, -1) });
    if (p.kind === 'command' && key.tab) return setPrompt({ ...p, text: completeCommand(p.text) });
    if (key.return) {
      if (p.kind === 'filter') return setPrompt({ ...p, editing: false });
      const target = viewForCommand(p.text);
      setPrompt({ kind: 'none', text: '', editing: false });
      if (target === undefined)
        return setMessage(`unknown command :${p.text} (try ${VIEWS.map((v) => `:${v.aliases[0]}`).join(' ')})`);
      return show(target.id);
    }
    if (!key.ctrl && !key.meta && input !== '') {
      setPrompt({ ...p, text: p.text + input });
      if (p.kind === 'filter') setCursor((c) => ({ ...c, events: 0, journal: 0 }));
    }
  };

  const onKey = (input: string, key: Key): void => {
    const waiting = pendingRef.current;
    if (waiting !== undefined) {
      if (input === 'y' || key.return) confirm(waiting, true);
      else if (input === 'n' || key.escape) confirm(waiting, false);
      return;
    }
    const p = promptRef.current;
    if (p.editing) return edit(p, input, key);
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

  const bindings = visibleBindings(
    readonly,
    KEYMAP,
    (c) => !isAgentCommand(c) || offeringAgent(ui.agents, c) !== undefined,
  );
  const title = VIEWS.find((v) => v.id === view)?.title ?? view;
  const body =
    pending !== undefined ? (
      <ConfirmPane pending={pending} height={bodyHeight} />
    ) : help ? (
      <HelpPane bindings={bindings} height={bodyHeight} />
    ) : view === 'overview' ? (
      <OverviewView
        agents={ui.agents}
        events={events}
        pane={pane}
        cursor={cursor}
        width={columns}
        height={bodyHeight}
      />
    ) : view === 'failover' ? (
      <FailoverView agents={ui.agents} rows={members} selected={cursor.failover} height={bodyHeight} now={now()} />
    ) : view === 'history' ? (
      <HistoryView rows={history} selected={cursor.history} detail={detail} height={bodyHeight} />
    ) : (
      <EventList rows={events} selected={cursor.journal} focused height={bodyHeight} />
    );
  return (
    <Box flexDirection="column" width={columns} height={height - 1}>
      <Header agents={ui.agents} readonly={readonly} context={context} view={title} now={now} />
      {body}
      <StatusLine prompt={prompt} filterError={filter.ok ? undefined : filter.error} message={message}>
        <Footer bindings={bindings} />
      </StatusLine>
    </Box>
  );
}

function StatusLine({
  prompt,
  filterError,
  message,
  children,
}: {
  prompt: Prompt;
  filterError: string | undefined;
  message: string;
  children: ReactNode;
}) {
  if (filterError !== undefined)
    return (
      <Text color="red" wrap="truncate">
        {filterError}
      </Text>
    );
  if (prompt.kind !== 'none') {
    const sigil = prompt.kind === 'filter' ? '/' : ':';
    return <Text color="cyan" wrap="truncate">{`${sigil}${prompt.text}${prompt.editing ? '█' : ''}`}</Text>;
  }
  if (message !== '')
    return (
      <Text color="yellow" wrap="truncate">
        {message}
      </Text>
    );
  return <>{children}</>;
}
