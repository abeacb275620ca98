import { stringify } from 'yaml';

/** Fields the server owns or stamps on every write: a diff of intent leaves them out. */
const STAMPED_METADATA = ['managedFields', 'resourceVersion', 'uid', 'creationTimestamp', 'generation'] as const;

/** The object as compared: without status and the server's bookkeeping in metadata. */
export function comparable(object: Readonly<Record<string, unknown>> | undefined): Record<string, unknown> | undefined {
  if (object === undefined) return undefined;
  const { status: _status, metadata, ...rest } = object;
  const meta = { ...(metadata as Record<string, unknown> | undefined) };
  for (const key of STAMPED_METADATA) delete meta[key];
  return { ...rest, metadata: meta };
}

const CONTEXT_LINES = 3;

/**
 * A unified-style diff of two objects as YAML (`--- live`, `+++ applied`, `@@` hunks with three lines of
 * context); '' when they are the same. Pure.
 */
export function objectDiff(
  label: string,
  live: Readonly<Record<string, unknown>> | undefined,
  applied: Readonly<Record<string, unknown>> | undefined,
): string {
  const before = live === undefined ? [] : stringify(comparable(live), { sortMapEntries: true }).trimEnd().split('\n');
  const after =
    applied === undefined ? [] : stringify(comparable(applied), { sortMapEntries: true }).trimEnd().split('\n');
  const ops = lineOps(before, after);
  if (ops.every((op) => op.kind === ' ')) return '';
  const lines = [`--- ${label} (live)`, `+++ ${label} (applied)`];
  let i = 0;
  while (i < ops.length) {
    if (ops[i]!.kind === ' ') {
      i += 1;
      continue;
    }
    const start = Math.max(0, i - CONTEXT_LINES);
    let end = i;
    while (end < ops.length) {
      const nextChange = ops.findIndex((op, k) => k >= end && op.kind !== ' ');
      if (nextChange === -1 || nextChange - end > CONTEXT_LINES * 2) break;
      end = nextChange + 1;
    }
    const stop = Math.min(ops.length, end + CONTEXT_LINES);
    const hunk = ops.slice(start, stop);
    const oldStart = ops.slice(0, start).filter((op) => op.kind !== '+').length + 1;
    const newStart = ops.slice(0, start).filter((op) => op.kind !== '-').length + 1;
    const oldCount = hunk.filter((op) => op.kind !== '+').length;
    const newCount = hunk.filter((op) => op.kind !== '-').length;
    lines.push(`@@ -${oldStart},${oldCount} +${newStart},${newCount} @@`);
    for (const op of hunk) lines.push(`${op.kind}${op.line}`);
    i = stop;
  }
  return `${lines.join('\n')}\n`;
}

interface LineOp {
  readonly kind: ' ' | '-' | '+';
  readonly line: string;
}

/** The longest common subsequence of lines, as keep/remove/add operations. */
function lineOps(a: readonly string[], b: readonly string[]): LineOp[] {
  const table = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i -= 1)
    for (let j = b.length - 1; j >= 0; j -= 1)
      table[i]![j] = a[i] === b[j] ? table[i + 1]![j + 1]! + 1 : Math.max(table[i + 1]![j]!, table[i]![j + 1]!);
  const ops: LineOp[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      ops.push({ kind: ' ', line: a[i]! });
      i += 1;
      j += 1;
    } else if (i < a.length && (j === b.length || table[i + 1]![j]! >= table[i]![j + 1]!)) {
      ops.push({ kind: '-', line: a[i]! });
      i += 1;
    } else {
      ops.push({ kind: '+', line: b[j]! });
      j += 1;
    }
  }
  return ops;
}
