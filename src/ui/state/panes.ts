import { maskSecrets } from '../format.js';
import { SHARED_KEYS, type KeyBinding } from '../keys/keymap.js';
import type { TableRow, ViewDef } from '../module.js';
import type { Screen, ScreenTable } from './screen.js';

/** Enter: the view's own detail of the row, else its cells under their column titles. */
export function detailLines(screen: Screen, table: ScreenTable, row: TableRow): readonly string[] {
  const own = screen.view.detail?.(row, screen.ctx);
  if (own !== undefined) return own.map(maskSecrets);
  const width = Math.max(...table.columns.map((c) => c.title.length));
  return table.columns.map((c, i) => `${c.title.padEnd(width)}  ${maskSecrets(row.cells[i] ?? '')}`);
}

/** `y`: what to show of the selected row's entity (its module's description, or its instances' states). */
export function yamlSubject(screen: Screen, row: TableRow | undefined): { title: string; value: unknown } | string {
  if (row === undefined) return 'select a row first';
  const group = screen.ctx.groups.find((g) => g.key === row.entity);
  if (group === undefined) return 'the selected row belongs to no entity';
  const describe = screen.modules.find((m) => m.kind === group.kind)?.describe;
  const state =
    describe?.(group) ??
    Object.fromEntries(
      group.sources.map((s) => [
        s.snapshot.identity.instance,
        { where: s.where, status: s.status, state: s.snapshot.state },
      ]),
    );
  return { title: `${group.key} as YAML`, value: { kind: group.kind, entity: group.entity, state } };
}

const spoken: Record<string, string> = { return: 'enter', escape: 'esc' };

const describeKeys = (b: Pick<KeyBinding, 'keys' | 'description' | 'dangerous'>): string =>
  `  ${b.keys
    .map((k) => spoken[k] ?? k)
    .join(', ')
    .padEnd(16)} ${b.description}${b.dangerous ? ' (asks first)' : ''}`;

/** `?` and `:help`: the keys of this view first, then the shared ones, the views and the sort letters. */
export function helpLines(screen: Screen, views: readonly ViewDef[], readonly: boolean): string[] {
  const own = screen.commands.filter((c) => c.views.includes(screen.view.id));
  const other = screen.commands.filter((c) => !c.views.includes(screen.view.id));
  const table = screen.tables[screen.focused];
  const sortable = (table?.columns ?? []).filter((c) => c.sortKey !== undefined);
  return [
    `Keys of ${screen.view.title}${readonly ? ' (read-only: no actions)' : ''}`,
    ...own.map(describeKeys),
    ...(other.length > 0 ? ['Actions of other views', ...other.map(describeKeys)] : []),
    ...(screen.launchers.length > 0
      ? ['This console', ...screen.launchers.map((l) => describeKeys({ ...l, dangerous: true }))]
      : []),
    'Everywhere',
    ...SHARED_KEYS.map(describeKeys),
    'Views (number key, or : and a name)',
    ...views.map((v, i) => `  ${String(i + 1).padEnd(16)} ${v.title}: ${v.aliases.map((a) => `:${a}`).join(' ')}`),
    '  :q :quit        quit;  :help  this help',
    'Sort: shift+letter sorts by a column, again reverses',
    ...(sortable.length === 0
      ? ['  (this view has no sortable columns)']
      : [`  ${sortable.map((c) => `${c.sortKey} ${c.title}`).join(' · ')}`]),
  ];
}

/** The footer: this view's own keys first, then what applies to any row, then the way out. */
export function footerItems(screen: Screen): readonly { readonly label: string; readonly hint: string }[] {
  const own = [
    ...screen.commands.filter((c) => c.views.includes(screen.view.id)),
    ...screen.launchers.filter((l) => l.views.includes(screen.view.id)),
  ];
  const pick = (names: readonly string[]): KeyBinding[] =>
    names.flatMap((n) => SHARED_KEYS.filter((b) => b.command === n));
  const instances = screen.tables[screen.focused]?.rows.some((r) => r.instance !== undefined) === true;
  const shared = pick(['select', ...(instances ? ['logs'] : []), 'yaml', 'filter', 'command', 'help', 'quit']);
  const multi = screen.tables.length > 1 ? pick(['next-pane']) : [];
  return [...own, ...shared.slice(0, 1), ...multi, ...shared.slice(1)];
}
