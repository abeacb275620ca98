import { z } from 'zod';
import type { ParsedEntry, ScaleEvent } from './types.js';

/** A task id becomes a label value and part of pod names: a DNS-1123 label short enough for both. */
export const TASK_ID_PATTERN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const TASK_ID_MAX = 40;

const taskId = z
  .string({ error: 'task_id is missing' })
  .max(TASK_ID_MAX, `task_id must be at most ${TASK_ID_MAX} characters`)
  .regex(
    TASK_ID_PATTERN,
    'task_id must be lowercase letters, digits and -, starting and ending with a letter or digit',
  );

function buildEventSchema(limit: number) {
  return z.object({
    type: z.enum(['scale_up', 'scale_down'], { error: 'type must be scale_up or scale_down' }),
    pod_count: z
      .string({ error: 'pod_count is missing' })
      .regex(/^-?\d+$/, 'pod_count must be a whole number')
      .transform(Number)
      .pipe(z.number().int().min(1, `pod_count must be 1..${limit}`).max(limit, `pod_count must be 1..${limit}`)),
    task_id: taskId,
    target: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'target must name a configured target')
      .optional(),
  });
}

type EventSchema = ReturnType<typeof buildEventSchema>;

/** Building a zod schema costs more than parsing with it: one per pod_count limit, built once. */
const schemas = new Map<number, EventSchema>();

function eventSchema(limit: number): EventSchema {
  let schema = schemas.get(limit);
  if (schema === undefined) {
    schema = buildEventSchema(limit);
    schemas.set(limit, schema);
  }
  return schema;
}

const shown = (value: unknown): string => {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 40 ? `"${text.slice(0, 40)}…" (${text.length} characters)` : `"${text}"`;
};

/**
 * Validates one stream entry's fields; a bad entry comes back with every reason in one line
 * (`pod_count must be 1..50, got "-1"; task_id is missing`), ready for the dead-letter stream.
 */
export function parseEntry(
  id: string,
  fields: Readonly<Record<string, string>>,
  limit: number,
  targets: readonly string[],
): ParsedEntry {
  const parsed = eventSchema(limit).safeParse(fields);
  if (!parsed.success) {
    const reasons = parsed.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? '');
      const raw = fields[key];
      return raw === undefined ? issue.message : `${issue.message}, got ${shown(raw)}`;
    });
    return { kind: 'malformed', id, reason: reasons.join('; ') };
  }
  const { type, pod_count, task_id, target } = parsed.data;
  if (target !== undefined && !targets.includes(target))
    return {
      kind: 'malformed',
      id,
      reason: `target "${target}" is not configured (known: ${targets.join(', ') || 'none'})`,
    };
  const event: ScaleEvent = { type, podCount: pod_count, taskId: task_id, ...(target === undefined ? {} : { target }) };
  return { kind: 'event', id, event };
}

/** The fields of an event as the replaced tool wrote them (`pgdeck autoscaler send`, the console's test event). */
export function eventFields(event: ScaleEvent): Record<string, string> {
  return {
    type: event.type,
    pod_count: String(event.podCount),
    task_id: event.taskId,
    ...(event.target === undefined ? {} : { target: event.target }),
  };
}
