/**
 * Requests sent to the API server by verb and resource, as RBAC names them (`patch statefulsets`,
 * `get leases`, `watch pods`), so a benchmark can count the writes of a steady state.
 */
export class RequestCounter {
  private readonly counts = new Map<string, number>();

  count(verb: string, resource: string): void {
    const key = `${verb} ${resource}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  /** A copy: `{'patch statefulsets': 3, 'get leases': 12}`. */
  snapshot(): Readonly<Record<string, number>> {
    return Object.fromEntries([...this.counts].sort(([a], [b]) => a.localeCompare(b)));
  }

  /** The sum over the verbs given (all when none): `total('create', 'update', 'patch', 'delete')`. */
  total(...verbs: readonly string[]): number {
    let sum = 0;
    for (const [key, n] of this.counts) if (verbs.length === 0 || verbs.includes(key.split(' ')[0] ?? '')) sum += n;
    return sum;
  }

  reset(): void {
    this.counts.clear();
  }
}
