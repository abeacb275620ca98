import type { UiModule, ViewDef } from '../module.js';
import { eventsView } from './events.js';
import { overviewView } from './overview.js';

/** The console's views in key order: Overview, each module's views, Events. Keys 1-9 follow this order. */
export function viewCatalog(modules: readonly UiModule[]): ViewDef[] {
  return [overviewView(modules), ...modules.flatMap((m) => m.views), eventsView()];
}

/** What `:` understands besides view names. */
export const PROMPT_COMMANDS: readonly { readonly names: readonly string[]; readonly run: 'quit' | 'help' }[] = [
  { names: ['q', 'quit', 'q!', 'exit'], run: 'quit' },
  { names: ['help', 'h', '?', 'keys'], run: 'help' },
];

export type PromptTarget = { kind: 'view'; view: ViewDef } | { kind: 'quit' } | { kind: 'help' };

export function promptTarget(views: readonly ViewDef[], text: string): PromptTarget | undefined {
  const name = text.trim().toLowerCase();
  const view = views.find((v) => v.aliases.includes(name));
  if (view !== undefined) return { kind: 'view', view };
  const command = PROMPT_COMMANDS.find((c) => c.names.includes(name));
  return command === undefined ? undefined : { kind: command.run };
}

/** Tab in command mode: the first name that starts with what was typed. */
export function completePrompt(views: readonly ViewDef[], text: string): string {
  const prefix = text.trim().toLowerCase();
  if (prefix === '') return text;
  const names = [...views.flatMap((v) => v.aliases), ...PROMPT_COMMANDS.flatMap((c) => c.names)];
  return names.find((a) => a.startsWith(prefix)) ?? text;
}
