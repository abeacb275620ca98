/** The console's views: each with its number key, its `:` command and aliases. Later agents add theirs here. */
export type ViewId = 'overview' | 'failover' | 'history' | 'events';

export interface ViewDef {
  readonly id: ViewId;
  readonly title: string;
  readonly key: string;
  readonly aliases: readonly string[];
}

export const VIEWS: readonly ViewDef[] = [
  { id: 'overview', title: 'Overview', key: '1', aliases: ['overview', 'ov', 'agents'] },
  { id: 'failover', title: 'Failover cluster', key: '2', aliases: ['failover', 'fo', 'members', 'cluster'] },
  { id: 'history', title: 'History', key: '3', aliases: ['history', 'hist', 'flight'] },
  { id: 'events', title: 'Events', key: '4', aliases: ['events', 'ev', 'journal'] },
];

export function viewForCommand(text: string): ViewDef | undefined {
  const name = text.trim().toLowerCase();
  return VIEWS.find((v) => v.aliases.includes(name));
}

/** Tab in command mode: the first alias that starts with what was typed. */
export function completeCommand(text: string): string {
  const prefix = text.trim().toLowerCase();
  if (prefix === '') return text;
  return VIEWS.flatMap((v) => v.aliases).find((a) => a.startsWith(prefix)) ?? text;
}
