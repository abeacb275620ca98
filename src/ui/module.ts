import type { ActionPreview, AgentSnapshot } from '../agents/kernel/snapshot.js';
import type { JournalEvent } from '../agents/kernel/journal.js';

/**
 * The contract between the shared console and the modules in `registry.ts`: a module brings views
 * (pure functions from the console's data to rows), commands for the keymap, and for an agent kind
 * the merge of its instances into one entity. Shared code knows no agent; modules know no React.
 */

export type Tone = 'ok' | 'warn' | 'bad' | 'stale' | 'plain' | 'dim';

/** One agent instance the console reads, in-process or attached. */
export interface SourceView {
  /** Position in the console's source list: `s0`, `s1`, ... */
  readonly id: string;
  readonly snapshot: AgentSnapshot;
  /** A snapshot of the agent arrived, so `snapshot.identity` names it (not only the URL). */
  readonly identified: boolean;
  /** Connected and not stale: its state is current and it can take actions. */
  readonly live: boolean;
  readonly status: 'live' | 'connecting' | 'stale';
  /** Why it is not live, or its last error; undefined when all is well. */
  readonly why: string | undefined;
  /** The URL, or `in-process`. */
  readonly where: string;
  readonly canAct: boolean;
  readonly offersLogs: boolean;
}

/** A journal event with the instance it came from. */
export interface UiEvent {
  /** Instance, sequence and time: the same event seen through two sources is one. */
  readonly key: string;
  readonly sourceId: string;
  readonly kind: string;
  readonly entity: string;
  readonly instance: string;
  readonly label: string;
  readonly event: JournalEvent;
}

/** The instances of one agent kind that share an entity (the daemons of one cluster). */
export interface EntityGroup {
  /** `kind:entity`, the owner key rows carry. */
  readonly key: string;
  readonly kind: string;
  readonly entity: string;
  readonly sources: readonly SourceView[];
  /** The module's merge of its sources' states; undefined for kinds no module reads. */
  readonly model: unknown;
}

export interface Column {
  readonly title: string;
  /** Upper-case letter that sorts by this column (k9s's shift+letter); a second press reverses. */
  readonly sortKey?: string;
  /** Widest the column gets; content decides below that. */
  readonly max?: number;
  /** Takes what is left and is cut first (messages, summaries). */
  readonly flex?: boolean;
  /** Left out, rather than every column cut, when the table does not fit (k9s's wide columns). */
  readonly wide?: boolean;
  readonly align?: 'right';
}

export interface TableRow {
  readonly key: string;
  readonly cells: readonly string[];
  readonly tone: Tone;
  /** The entity that owns the row (`EntityGroup.key`): actions go to its instances. */
  readonly entity?: string;
  /** The agent instance the row is about (a member's daemon), for logs and detail. */
  readonly instance?: string;
  /** Sort values per column where text order is wrong (numbers, times); null sorts last. */
  readonly sort?: readonly (string | number | null)[];
  /** The module's own record behind the row. */
  readonly data?: unknown;
}

export interface TableModel {
  readonly id: string;
  readonly title?: string;
  readonly columns: readonly Column[];
  readonly rows: readonly TableRow[];
  readonly empty: string;
  /** Most rows this table takes when the view has several tables. */
  readonly maxRows?: number;
}

/** A line above a view's tables; `countdown` renders a live `until - now` in seconds between its texts. */
export interface BannerLine {
  readonly key: string;
  readonly text: string;
  readonly tone: Tone;
  readonly countdown?: { readonly until: number; readonly after: string };
}

export interface ViewModel {
  readonly banner: readonly BannerLine[];
  readonly tables: readonly TableModel[];
}

export interface ViewContext {
  readonly groups: readonly EntityGroup[];
  readonly sources: readonly SourceView[];
  readonly events: readonly UiEvent[];
  readonly now: number;
}

export interface ViewDef {
  readonly id: string;
  readonly title: string;
  /** `:` names; the first is the one help shows. */
  readonly aliases: readonly string[];
  model(ctx: ViewContext): ViewModel;
  /** What enter shows for a row; without it the row's cells under their column titles. */
  detail?(row: TableRow, ctx: ViewContext): readonly string[] | undefined;
}

/** An action decided from a key and the selected row, before it is routed to an instance. */
export interface PlannedAction {
  /** The entity it acts on (`EntityGroup.key`). */
  readonly entity: string;
  /** How the preview names it: `cluster b`. */
  readonly target: string;
  readonly action: string;
  readonly args: Readonly<Record<string, unknown>>;
}

export interface PendingAction extends PlannedAction {
  readonly sourceId: string;
  /** The instance that answers: `b/pg1`. */
  readonly via: string;
  readonly preview: ActionPreview;
}

export interface PlanContext {
  readonly view: string;
  readonly row: TableRow | undefined;
  readonly groups: readonly EntityGroup[];
}

export interface ModuleCommand {
  readonly id: string;
  readonly keys: readonly string[];
  readonly label: string;
  readonly description: string;
  /** The footer's word or two. */
  readonly hint: string;
  readonly dangerous: boolean;
  /** Views whose footer lists this command first. */
  readonly views: readonly string[];
  /** The agent actions behind it: the key exists only while some source offers one. */
  readonly actions: readonly string[];
  /** The action to take, or a sentence saying why there is none. */
  plan(ctx: PlanContext): PlannedAction | string;
}

export interface EntitySummary {
  readonly health: string;
  readonly tone: Tone;
  readonly summary: string;
}

export interface UiModule {
  readonly name: string;
  /** The agent kind whose instances it reads; none for modules over no agent (the lab). */
  readonly kind?: string;
  readonly views: readonly ViewDef[];
  readonly commands: readonly ModuleCommand[];
  /** One entity out of its instances' snapshots. */
  merge?(sources: readonly SourceView[]): unknown;
  /** The Overview's line of one entity. */
  summarize?(group: EntityGroup, now: number): EntitySummary;
  /** Whether this instance leads its entity (actions go to the leader first). */
  leads?(snapshot: AgentSnapshot): boolean;
  /** What `y` shows of an entity. */
  describe?(group: EntityGroup): unknown;
}
