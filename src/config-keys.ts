/** An object node of a zod schema: where it sits, its keys, and whether it refuses unknown ones. */
export interface SchemaObject {
  readonly path: readonly string[];
  readonly keys: readonly string[];
  readonly strict: boolean;
}

interface ZodDef {
  readonly type?: string;
  readonly shape?: Readonly<Record<string, unknown>>;
  readonly catchall?: unknown;
  readonly innerType?: unknown;
  readonly in?: unknown;
  readonly out?: unknown;
  readonly options?: readonly unknown[];
}

function defOf(schema: unknown): ZodDef | undefined {
  return typeof schema === 'object' && schema !== null && 'def' in schema ? (schema as { def: ZodDef }).def : undefined;
}

/** Every object of a zod schema (through defaults, optionals, pipes and unions); none for other schemas. */
export function schemaObjects(schema: unknown, path: readonly string[] = []): SchemaObject[] {
  const def = defOf(schema);
  if (def === undefined) return [];
  if (def.type === 'object' && def.shape !== undefined) {
    const shape = def.shape;
    const keys = Object.keys(shape);
    const strict = defOf(def.catchall)?.type === 'never';
    return [{ path, keys, strict }, ...keys.flatMap((k) => schemaObjects(shape[k], [...path, k]))];
  }
  const inner = [def.innerType, def.in, def.out, ...(def.options ?? [])].filter((s) => s !== undefined);
  return inner.flatMap((s) => schemaObjects(s, path));
}

/** Dotted paths of every key a zod schema knows. */
export function schemaPaths(schema: unknown, prefix = ''): string[] {
  return schemaObjects(schema).flatMap((o) =>
    o.keys.map((k) => [prefix, ...o.path, k].filter((p) => p !== '').join('.')),
  );
}

/** The key meant by an unknown `key`: the same name elsewhere, or a near spelling beside it. */
export function suggestKey(key: string, known: readonly string[]): string | undefined {
  const last = (k: string): string => k.slice(k.lastIndexOf('.') + 1).toLowerCase();
  const parent = (k: string): string => k.slice(0, Math.max(0, k.lastIndexOf('.')));
  const name = last(key);
  const moved = known.find((k) => k !== key && last(k) === name);
  if (moved !== undefined) return moved;
  const near = known
    .filter((k) => parent(k) === parent(key))
    .map((k) => ({ k, d: distance(last(k), name) }))
    .filter(({ d }) => d <= (name.length <= 4 ? 1 : 2))
    .sort((a, b) => a.d - b.d);
  return near[0]?.k;
}

/** Edit distance with adjacent transpositions (optimal string alignment). */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  return d[a.length]![b.length]!;
}
