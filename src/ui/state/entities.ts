import type { EntityGroup, PlannedAction, SourceView, UiModule } from '../module.js';

export function entityKey(kind: string, entity: string): string {
  return `${kind}:${entity}`;
}

/**
 * The entities behind the sources: instances of one kind that name the same entity are one (the
 * daemons of one cluster), merged by the kind's module. Sources not yet identified belong to
 * none. Ordered by module, then entity name.
 */
export function groupEntities(sources: readonly SourceView[], modules: readonly UiModule[]): EntityGroup[] {
  const byKey = new Map<string, SourceView[]>();
  for (const s of sources) {
    if (!s.identified) continue;
    const key = entityKey(s.snapshot.identity.kind, s.snapshot.identity.entity);
    byKey.set(key, [...(byKey.get(key) ?? []), s]);
  }
  const rank = (kind: string): number => {
    const at = modules.findIndex((m) => m.kind === kind);
    return at === -1 ? modules.length : at;
  };
  return [...byKey.entries()]
    .map(([key, list]): EntityGroup => {
      const { kind, entity } = list[0]!.snapshot.identity;
      const module = modules.find((m) => m.kind === kind);
      return { key, kind, entity, sources: list, model: module?.merge?.(list) };
    })
    .sort((a, b) => rank(a.kind) - rank(b.kind) || a.entity.localeCompare(b.entity));
}

/**
 * Which source takes a planned action: a live instance of the action's own entity that offers it,
 * the leader first. A string says why none can.
 */
export function routeAction(
  plan: PlannedAction,
  groups: readonly EntityGroup[],
  modules: readonly UiModule[],
): SourceView | string {
  const group = groups.find((g) => g.key === plan.entity);
  if (group === undefined) return `${plan.target} is not shown by any source`;
  const offering = group.sources.filter((s) => s.snapshot.actions.some((a) => a.name === plan.action));
  if (offering.length === 0) return `no instance of ${plan.target} offers ${plan.action}`;
  const usable = offering.filter((s) => s.live && s.canAct);
  if (usable.length === 0)
    return `no live instance of ${plan.target} to send ${plan.action} to (${offering
      .map((s) => `${s.snapshot.identity.label}: ${s.why ?? s.status}`)
      .join('; ')})`;
  const leads = modules.find((m) => m.kind === group.kind)?.leads;
  const leader = (s: SourceView): boolean =>
    s.snapshot.leadership?.leading === true || (leads !== undefined && leads(s.snapshot));
  return usable.find(leader) ?? usable[0]!;
}

/** Whether some source offers one of `actions`, so its key is worth showing. */
export function offered(actions: readonly string[], sources: readonly SourceView[]): boolean {
  return sources.some((s) => s.snapshot.actions.some((a) => actions.includes(a.name)));
}
