import type { Column, EntityGroup, TableRow, Tone } from '../module.js';

/** What the Lab view reads of the lab source's state (the lab's own types stay out of the console). */
export interface LabComponentView {
  readonly name: string;
  readonly phase: string;
  readonly detail: string;
  readonly endpoints: Readonly<Record<string, string>>;
}

export interface LabStateView {
  readonly dir: string;
  readonly components: readonly LabComponentView[];
}

export const LAB_KIND = 'lab';

export interface LabGroup {
  readonly group: EntityGroup;
  readonly state: LabStateView;
}

export function labsOf(groups: readonly EntityGroup[]): LabGroup[] {
  return groups.flatMap((group) => {
    if (group.kind !== LAB_KIND) return [];
    const state = group.sources[0]?.snapshot.state as LabStateView | undefined;
    return state === undefined ? [] : [{ group, state }];
  });
}

export const labColumns: readonly Column[] = [
  { title: 'COMPONENT', sortKey: 'N', max: 12 },
  { title: 'PHASE', sortKey: 'S' },
  { title: 'ENDPOINT', max: 48 },
  { title: 'DETAIL', flex: true },
];

const tones: Readonly<Record<string, Tone>> = {
  ready: 'ok',
  starting: 'warn',
  building: 'warn',
  pending: 'dim',
  skipped: 'dim',
  failed: 'bad',
  stopped: 'stale',
};

/** The address a person wants first for each component. */
export function mainEndpoint(c: LabComponentView): string {
  const e = c.endpoints;
  return e.write ?? e.url ?? e.coordinator ?? e.server ?? Object.values(e)[0] ?? '';
}

export interface ComponentData {
  readonly type: 'component';
  readonly component: LabComponentView;
}

export function labRows(labs: readonly LabGroup[]): TableRow[] {
  return labs.flatMap(({ group, state }) =>
    state.components.map((c): TableRow => ({
      key: `${group.key}/${c.name}`,
      cells: [c.name, c.phase, mainEndpoint(c), c.detail],
      tone: tones[c.phase] ?? 'plain',
      entity: group.key,
      data: { type: 'component', component: c } satisfies ComponentData,
    })),
  );
}
