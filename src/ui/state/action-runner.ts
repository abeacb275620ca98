import type { ActionPreview, Actor } from '../../agents/kernel/snapshot.js';
import type { ConsoleLauncher } from '../launcher.js';
import type { ModuleCommand, PendingAction, TableRow, UiModule } from '../module.js';
import { nextPaneId, type ConsoleState } from './console-state.js';
import { maskSecrets } from '../format.js';
import { routeAction } from './entities.js';
import type { Screen } from './screen.js';
import { JOURNAL_LOG, type LogsFn } from './sources.js';
import type { UiStore } from './ui-store.js';

type Update = (change: (state: ConsoleState) => ConsoleState) => void;

const actor: Actor = { who: 'console', via: 'tui' };
const say = (message: string) => (s: ConsoleState) => ({ ...s, message });

/**
 * The console's side effects: a key's planned action routed to a live instance of the row's own
 * entity, previewed, then invoked on the same instance once confirmed; logs fetched for `l`; YAML for `y`.
 */
export function actionRunner(store: UiStore, modules: readonly UiModule[], update: Update) {
  const start = (command: ModuleCommand, row: TableRow | undefined, screen: Screen): void => {
    const plan = command.plan({ view: screen.view.id, row, groups: screen.ctx.groups });
    if (typeof plan === 'string') return update(say(plan));
    const source = routeAction(plan, screen.ctx.groups, modules);
    if (typeof source === 'string') return update(say(source));
    const control = store.control(source.id);
    if (control === undefined) return update(say(`${source.snapshot.identity.instance} takes no actions here`));
    const via = source.snapshot.identity.instance;
    update(say(`asking ${via} what ${plan.action} on ${plan.target} would do...`));
    control.preview(plan.action, plan.args, actor).then(
      (preview) =>
        update((s) => ({
          ...s,
          message: '',
          overlay: { kind: 'confirm', pending: { ...plan, sourceId: source.id, via, preview } },
        })),
      (error: unknown) => update(say(`${plan.action} on ${plan.target}: ${(error as Error).message}`)),
    );
  };

  const confirm = (p: PendingAction, yes: boolean): void => {
    const control = store.control(p.sourceId);
    if (!yes || !p.preview.allowed || control === undefined) return update(say(yes ? '' : `${p.action} cancelled`));
    update(say(`${p.action} on ${p.target} running (via ${p.via})...`));
    control.invoke(p.action, p.args, actor).then(
      (result) => update(say(`${p.action}: ${result.ok ? 'done' : 'refused'}: ${result.message}`)),
      (error: unknown) => update(say(`${p.action} failed: ${(error as Error).message}`)),
    );
  };

  /** A launcher's key: its preview first, then the question. */
  const launch = (launcher: ConsoleLauncher): void => {
    update(say(`${launcher.hint}: checking what ${launcher.description} would do...`));
    launcher.preview().then(
      (preview) => update((s) => ({ ...s, message: '', overlay: { kind: 'launch', launcher, preview } })),
      (error: unknown) => update(say(`${launcher.hint}: ${(error as Error).message}`)),
    );
  };

  /** Confirmed: runs it with its progress in the status line, then attaches the console to what it brought up. */
  const confirmLaunch = (launcher: ConsoleLauncher, preview: ActionPreview, yes: boolean): void => {
    if (!yes || !preview.allowed) return update(say(yes ? '' : `${launcher.hint} cancelled`));
    update(say(`${launcher.hint}: starting...`));
    launcher
      .launch((line) => update(say(`${launcher.hint}: ${line}`)))
      .then(
        (outcome) => {
          if (outcome.kind === 'attached') store.add(outcome.sources);
          update(
            say(
              outcome.kind === 'attached'
                ? `${launcher.hint}: done: ${outcome.message}`
                : `${launcher.hint} failed: ${outcome.message}`,
            ),
          );
        },
        (error: unknown) => update(say(`${launcher.hint} failed: ${(error as Error).message}`)),
      );
  };

  const logs = (row: TableRow, screen: Screen): void => {
    const candidates = screen.ctx.sources.filter((s) => s.identified && s.snapshot.identity.instance === row.instance);
    const source =
      candidates.find((s) => s.live && s.offersLogs) ?? candidates.find((s) => s.offersLogs) ?? candidates[0];
    const id = nextPaneId();
    const title = `logs of ${row.instance ?? '?'}`;
    const pane = (lines: readonly string[]) => ({ kind: 'text', id, title, lines, scroll: lines.length }) as const;
    const open = (lines: readonly string[]): void => update((s) => ({ ...s, overlay: pane(lines) }));
    if (source === undefined)
      return open([`no source for ${row.instance ?? '?'}: this console is not attached to its daemon`]);
    const fetch = store.logs(source.id);
    if (fetch === undefined) return open([`not offered by this source (${source.where})`]);
    open([`loading the last lines from ${source.where}...`]);
    void tailAll(fetch).then((lines) =>
      update((s) => (s.overlay.kind === 'text' && s.overlay.id === id ? { ...s, overlay: pane(lines) } : s)),
    );
  };

  /** `y`: the YAML library is loaded on first use, so the console starts without it. */
  const yaml = (title: string, value: unknown): void => {
    const id = nextPaneId();
    import('yaml').then(
      ({ stringify }) => {
        const lines = stringify(value, { lineWidth: 0 }).trimEnd().split('\n').map(maskSecrets);
        update((s) => ({ ...s, overlay: { kind: 'text', id, title, lines, scroll: 0 } }));
      },
      (error: unknown) => update(say(`yaml: ${(error as Error).message}`)),
    );
  };

  return { start, confirm, launch, confirmLaunch, logs, yaml };
}

const LOG_LINES = 200;

/** One log source's section of the pane: a heading and its masked lines, or why it could not be read. */
async function section(fetch: LogsFn, source: string): Promise<{ lines: string[]; sources: readonly string[] }> {
  try {
    const answer = await fetch(source, LOG_LINES);
    return {
      lines: [`--- ${source} (last ${answer.lines.length} lines)`, ...answer.lines.map(maskSecrets)],
      sources: answer.sources ?? [],
    };
  } catch (error) {
    return { lines: [`--- ${source}: ${(error as Error).message}`], sources: [] };
  }
}

/** The journal first, then every other source the handle advertises in its answer. */
async function tailAll(fetch: LogsFn): Promise<string[]> {
  const journal = await section(fetch, JOURNAL_LOG);
  const rest = await Promise.all(journal.sources.filter((s) => s !== JOURNAL_LOG).map((s) => section(fetch, s)));
  return [journal, ...rest].flatMap((part) => part.lines);
}
