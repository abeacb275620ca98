import type {
  BannerLine,
  EntityGroup,
  ModuleCommand,
  TableModel,
  TableRow,
  UiModule,
  ViewContext,
  ViewDef,
  ViewModel,
} from '../module.js';
import { filterRows, parseFilter } from '../rows/filter.js';
import { sortRows, type SortOrder } from '../rows/sort.js';
import type { ConsoleLauncher } from '../launcher.js';
import { groupEntities, offered } from './entities.js';
import type { ConsoleState } from './console-state.js';
import type { UiSnapshot } from './ui-store.js';

export interface ScreenTable extends TableModel {
  /** Filtered and sorted. */
  readonly rows: readonly TableRow[];
  readonly total: number;
  readonly selected: number;
  readonly order: SortOrder | undefined;
}

/** Everything one frame and one key press need, derived from the store's snapshot and the UI state. */
export interface Screen {
  readonly view: ViewDef;
  readonly ctx: ViewContext;
  readonly banner: readonly BannerLine[];
  readonly tables: readonly ScreenTable[];
  readonly focused: number;
  readonly row: TableRow | undefined;
  readonly filterError: string | undefined;
  /** The modules' commands that apply now: offered by some source, not removed by read-only mode. */
  readonly commands: readonly ModuleCommand[];
  /** The console-level launchers (the lab's `L`), unless read-only mode removes them: they ask first. */
  readonly launchers: readonly ConsoleLauncher[];
  readonly modules: readonly UiModule[];
}

export const tableSlot = (view: string, table: string): string => `${view}/${table}`;

/**
 * Derives screens, doing each step once per change: entities once per change of the sources, the view's rows
 * once per flush and view, filtering and sorting once per rows, filter and order.
 */
export class ScreenDeriver {
  /** Entities and their merge: once per change of the sources, not per flush of events. */
  private groups: { sources: UiSnapshot['sources']; groups: EntityGroup[] } | undefined;
  /** One time per flush, so every row of a frame is aged against the same now. */
  private clock: { ui: UiSnapshot; now: number } | undefined;
  private model: { ui: UiSnapshot; view: ViewDef; model: ViewModel } | undefined;
  private readonly shaped = new WeakMap<
    TableModel,
    { filter: string; order: SortOrder | undefined; rows: readonly TableRow[] }
  >();

  constructor(
    private readonly views: readonly ViewDef[],
    private readonly modules: readonly UiModule[],
    private readonly now: () => number,
    private readonly launchers: readonly ConsoleLauncher[] = [],
  ) {}

  derive(ui: UiSnapshot, state: ConsoleState, readonly: boolean): Screen {
    if (this.groups?.sources !== ui.sources)
      this.groups = { sources: ui.sources, groups: groupEntities(ui.sources, this.modules) };
    if (this.clock?.ui !== ui) this.clock = { ui, now: this.now() };
    const { groups } = this.groups;
    const { now } = this.clock;
    const view = this.views.find((v) => v.id === state.view) ?? this.views[0]!;
    const ctx: ViewContext = { groups, sources: ui.sources, events: ui.events, now };
    if (this.model?.ui !== ui || this.model.view !== view) this.model = { ui, view, model: view.model(ctx) };
    const { model } = this.model;
    const filter = parseFilter(state.filter);
    const tables = model.tables.map((t): ScreenTable => {
      const slot = tableSlot(view.id, t.id);
      const order = state.sort[slot];
      let shaped = this.shaped.get(t);
      if (shaped === undefined || shaped.filter !== state.filter || shaped.order !== order) {
        shaped = { filter: state.filter, order, rows: sortRows(filterRows(t.rows, filter, state.filter), order) };
        this.shaped.set(t, shaped);
      }
      const rows = shaped.rows;
      const key = state.selected[slot];
      const at = key === undefined ? -1 : rows.findIndex((r) => r.key === key);
      const selected = at >= 0 ? at : Math.min(state.index[slot] ?? 0, Math.max(0, rows.length - 1));
      return { ...t, rows, total: t.rows.length, selected, order };
    });
    const focused = Math.min(state.pane, Math.max(0, tables.length - 1));
    const table = tables[focused];
    return {
      view,
      ctx,
      banner: model.banner,
      tables,
      focused,
      row: table?.rows[table.selected],
      filterError: filter.ok ? undefined : filter.error,
      // Modules may share a key (x, +): the view's own commands come first, so its own wins there.
      commands: this.modules
        .flatMap((m) => m.commands)
        .filter((c) => !(readonly && c.dangerous) && offered(c.actions, ui.sources))
        .sort((a, b) => Number(b.views.includes(view.id)) - Number(a.views.includes(view.id))),
      launchers: readonly ? [] : this.launchers,
      modules: this.modules,
    };
  }
}
