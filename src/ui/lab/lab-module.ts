import type { EntityGroup, ModuleCommand, UiModule } from '../module.js';

const offersLab = (g: EntityGroup): boolean =>
  g.sources.some((s) => s.snapshot.actions.some((a) => a.name === 'lab-setup'));

const labCommand: ModuleCommand = {
  id: 'lab',
  keys: ['L'],
  label: 'L',
  description: 'set up the lab',
  hint: 'lab setup',
  dangerous: true,
  views: ['overview'],
  actions: ['lab-setup'],
  plan: (ctx) => {
    const selected = ctx.groups.find((g) => g.key === ctx.row?.entity);
    const group = selected !== undefined && offersLab(selected) ? selected : ctx.groups.find(offersLab);
    if (group === undefined) return 'no source offers lab-setup';
    return { entity: group.key, target: `${group.kind} ${group.entity}`, action: 'lab-setup', args: {} };
  },
};

/** The lab's keys: `L` sets the lab up through whichever source offers it. */
export const labModule: UiModule = { name: 'lab', views: [], commands: [labCommand] };
