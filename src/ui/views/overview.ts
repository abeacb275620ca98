import type { Column, EntityGroup, EntitySummary, SourceView, TableRow, UiModule, ViewDef } from '../module.js';
import { entityKey } from '../state/entities.js';

export const entityColumns: readonly Column[] = [
  { title: 'KIND', sortKey: 'K', max: 14 },
  { title: 'ENTITY', sortKey: 'E', max: 20 },
  { title: 'HEALTH', sortKey: 'H' },
  { title: 'ANSWERING', sortKey: 'A', max: 28 },
  { title: 'SUMMARY', sortKey: 'M', flex: true },
];

export const sourceColumns: readonly Column[] = [
  { title: 'SOURCE', sortKey: 'O', max: 32 },
  { title: 'INSTANCE', sortKey: 'I', max: 24 },
  { title: 'STATE', sortKey: 'S' },
  { title: 'HEALTH', sortKey: 'H', wide: true },
  { title: 'WHY / LAST DECISION', sortKey: 'W', flex: true },
];

/** An entity no module reads: the freshest live instance speaks for it. */
function genericSummary(group: EntityGroup): EntitySummary {
  const live = group.sources.filter((s) => s.live);
  const speaker = [...(live.length > 0 ? live : group.sources)].sort(
    (a, b) => b.snapshot.updatedAt - a.snapshot.updatedAt,
  )[0];
  if (live.length === 0 || speaker === undefined)
    return { health: 'stale', tone: 'stale', summary: `last known: ${speaker?.snapshot.summary ?? '-'}` };
  const { status } = speaker.snapshot.health;
  const tone = status === 'ok' ? 'ok' : status === 'failing' || status === 'stopped' ? 'bad' : 'warn';
  return { health: status, tone, summary: speaker.snapshot.summary };
}

/** Which instances answer: `2/3 pg1 pg2`. */
export function answering(group: EntityGroup): string {
  const live = group.sources.filter((s) => s.live).map((s) => s.snapshot.identity.label);
  return `${live.length}/${group.sources.length}${live.length === 0 ? '' : ` ${live.join(' ')}`}`;
}

function entityRows(groups: readonly EntityGroup[], modules: readonly UiModule[], now: number): TableRow[] {
  return groups.map((g) => {
    const summarize = modules.find((m) => m.kind === g.kind)?.summarize;
    const s = summarize === undefined ? genericSummary(g) : summarize(g, now);
    return {
      key: g.key,
      entity: g.key,
      tone: s.tone,
      cells: [g.kind, g.entity, s.health, answering(g), s.summary],
    };
  });
}

function sourceRow(s: SourceView): TableRow {
  const { identity, health, summary } = s.snapshot;
  return {
    key: s.id,
    ...(s.identified ? { entity: entityKey(identity.kind, identity.entity), instance: identity.instance } : {}),
    tone: s.live ? (s.why === undefined ? 'ok' : 'warn') : 'stale',
    cells: [
      s.where,
      s.identified ? identity.instance : '?',
      s.status,
      s.identified ? health.status : '-',
      s.why ?? summary,
    ],
  };
}

/** Entities (one line per cluster or agent), then every source and why it is not live. */
export function overviewView(modules: readonly UiModule[]): ViewDef {
  return {
    id: 'overview',
    title: 'Overview',
    aliases: ['overview', 'ov', 'agents', 'sources'],
    model: (ctx) => ({
      banner: [],
      tables: [
        {
          id: 'entities',
          title: 'ENTITIES',
          columns: entityColumns,
          rows: entityRows(ctx.groups, modules, ctx.now),
          empty: 'no agents: configure `agents:` in the config file, or run `pgdeck attach URL...`',
          maxRows: 8,
        },
        {
          id: 'sources',
          title: 'SOURCES',
          columns: sourceColumns,
          rows: ctx.sources.map(sourceRow),
          empty: 'no sources',
        },
      ],
    }),
  };
}
