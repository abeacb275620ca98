import type { EntityGroup, ModuleCommand, PlanContext, PlannedAction, UiModule } from '../module.js';
import { LAB_KIND, labColumns, labRows, labsOf, type ComponentData } from './lab-rows.js';

/** The drill a component's row stands for under `x`: the node drills hit the primary. */
const componentDrill: Readonly<Record<string, string>> = {
  etcd: 'restart-etcd',
  redis: 'restart-redis',
  kube: 'restart-apiserver',
  failover: 'kill-node',
  haproxy: 'kill-node',
};

function labFor(ctx: PlanContext): EntityGroup | string {
  const labs = labsOf(ctx.groups);
  const own = labs.find((l) => l.group.key === ctx.row?.entity) ?? labs[0];
  return own === undefined ? 'no lab is attached (`pgdeck` with nothing configured opens one)' : own.group;
}

const drill = (group: EntityGroup, name: string): PlannedAction => ({
  entity: group.key,
  target: 'the lab',
  action: `chaos-${name}`,
  args: {},
});

const chaosKey = (
  id: string,
  key: string,
  drills: readonly string[],
  hint: string,
  description: string,
  pick: (ctx: PlanContext) => string | { readonly drill: string },
): ModuleCommand => ({
  id,
  keys: [key],
  label: key,
  description,
  hint,
  dangerous: true,
  views: ['lab'],
  actions: drills.map((d) => `chaos-${d}`),
  plan: (ctx) => {
    const group = labFor(ctx);
    if (typeof group === 'string') return group;
    const picked = pick(ctx);
    return typeof picked === 'string' ? picked : drill(group, picked.drill);
  },
});

export const labCommands: readonly ModuleCommand[] = [
  chaosKey(
    'chaos',
    'b',
    [...new Set(Object.values(componentDrill))],
    'chaos',
    "chaos on the selected component (etcd, Redis, the API server: restart; the cluster: kill its primary's node)",
    (ctx) => {
      const data = ctx.row?.data as ComponentData | undefined;
      if (data?.type !== 'component') return 'select a component in the Lab view (:lab)';
      const name = componentDrill[data.component.name];
      return name === undefined ? `no drill for ${data.component.name} yet` : { drill: name };
    },
  ),
  chaosKey(
    'kill-postgres',
    'c',
    ['kill-postgres'],
    'crash pg',
    "crash the primary's server (kill -9 of postgres only)",
    () => ({
      drill: 'kill-postgres',
    }),
  ),
  chaosKey('freeze', 'h', ['freeze'], 'freeze', "freeze the primary's node (SIGSTOP of its daemon and server)", () => ({
    drill: 'freeze',
  })),
  chaosKey('thaw', 'u', ['thaw'], 'thaw', 'thaw the frozen node (SIGCONT)', () => ({ drill: 'thaw' })),
  // Offered only by a lab up with --netns: its source lists these drills only then.
  chaosKey('partition', 'i', ['partition'], 'isolate', "cut the primary's node off the network (partition)", () => ({
    drill: 'partition',
  })),
  chaosKey('heal', 'm', ['heal'], 'mend', "bring the cut node's link up again (heal)", () => ({ drill: 'heal' })),
];

/** The lab in the console: the Lab view (components, phase, endpoint) and the chaos keys (`L` is a console launcher, from main). */
export const labModule: UiModule = {
  name: 'lab',
  kind: LAB_KIND,
  views: [
    {
      id: 'lab',
      title: 'Lab',
      aliases: ['lab', 'chaos'],
      model: (ctx) => {
        const labs = labsOf(ctx.groups);
        return {
          banner: labs.map((l) => ({ key: l.group.key, text: `lab in ${l.state.dir}`, tone: 'plain' as const })),
          tables: [
            {
              id: 'components',
              columns: labColumns,
              rows: labRows(labs),
              empty: 'no lab attached: L sets one up, or attaches to the one running',
            },
          ],
        };
      },
    },
  ],
  commands: labCommands,
  merge: (sources) => sources[0]?.snapshot.state,
  summarize: (group) => {
    const state = group.sources[0]?.snapshot.state as { components?: { phase: string }[] } | undefined;
    const parts = state?.components ?? [];
    const ready = parts.filter((c) => c.phase === 'ready').length;
    const failed = parts.some((c) => c.phase === 'failed');
    return {
      health: failed ? 'degraded' : 'ok',
      tone: failed ? 'warn' : 'ok',
      summary: `${ready} of ${parts.length} components ready`,
    };
  },
};
