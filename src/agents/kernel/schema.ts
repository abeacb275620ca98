/**
 * The structural shape of a validating schema (zod satisfies it), so the kernel needs no library.
 */
export interface SchemaIssue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

export type SafeParse<T> =
  | { readonly success: true; readonly data: T }
  | { readonly success: false; readonly error: { readonly issues: readonly SchemaIssue[] } };

export interface Schema<T> {
  safeParse(input: unknown): SafeParse<T>;
}

/** `port: expected number` — the first issue, naming the field, in one line. */
export function describeIssues(issues: readonly SchemaIssue[], prefix = ''): { field: string; message: string } {
  const first = issues[0];
  if (first === undefined) return { field: prefix || '(root)', message: 'invalid value' };
  const path = [prefix, ...first.path.map(String)].filter((p) => p !== '').join('.');
  return { field: path || '(root)', message: first.message };
}
