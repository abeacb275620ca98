import { PgdeckError } from '../kernel/errors.js';

/** One stream entry: its ID and its field/value pairs. */
export interface StreamEntry {
  readonly id: string;
  readonly fields: Record<string, string>;
}

/** Entries read or claimed, and the IDs of pending entries whose data was deleted from the stream meanwhile. */
export interface EntryBatch {
  readonly entries: readonly StreamEntry[];
  readonly deleted: readonly string[];
}

export interface ClaimResult extends EntryBatch {
  /** Where the next XAUTOCLAIM scan starts; `0-0` when the whole pending list was scanned. */
  readonly next: string;
}

export interface PendingSummary {
  readonly count: number;
  readonly minId: string | null;
  readonly maxId: string | null;
  readonly consumers: readonly { readonly name: string; readonly count: number }[];
}

export interface PendingEntry {
  readonly id: string;
  readonly consumer: string;
  readonly idleMs: number;
  /** How often the entry was delivered: a dead-letter decision counts these. */
  readonly deliveries: number;
}

export interface GroupInfo {
  readonly name: string;
  readonly consumers: number;
  readonly pending: number;
  readonly lastDeliveredId: string;
  readonly entriesRead: number | null;
  /** Entries not yet delivered to the group; null when Redis cannot tell (after deletions). */
  readonly lag: number | null;
}

export interface ConsumerInfo {
  readonly name: string;
  readonly pending: number;
  /** ms since the consumer last tried to read (or claim). */
  readonly idleMs: number;
  /** ms since it last read an entry successfully; null on Redis < 7.2. */
  readonly inactiveMs: number | null;
}

function unexpected(command: string, reply: unknown): PgdeckError {
  return new PgdeckError('internal', `unexpected ${command} reply from redis: ${JSON.stringify(reply)?.slice(0, 200)}`);
}

function text(value: unknown, command: string): string {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString();
  if (typeof value === 'number') return String(value);
  throw unexpected(command, value);
}

function count(value: unknown, command: string): number {
  const n = typeof value === 'number' ? value : Number(text(value, command));
  if (!Number.isFinite(n)) throw unexpected(command, value);
  return n;
}

function list(value: unknown, command: string): readonly unknown[] {
  if (!Array.isArray(value)) throw unexpected(command, value);
  return value;
}

/** `[id, [f1, v1, f2, v2]]` pairs; a null field list is a pending entry deleted from the stream. */
export function parseEntries(value: unknown, command: string): EntryBatch {
  const entries: StreamEntry[] = [];
  const deleted: string[] = [];
  for (const item of list(value, command)) {
    const [id, flat] = list(item, command);
    if (flat === null) {
      deleted.push(text(id, command));
      continue;
    }
    const pairs = list(flat, command);
    const fields: [string, string][] = [];
    for (let i = 0; i + 1 < pairs.length; i += 2) fields.push([text(pairs[i], command), text(pairs[i + 1], command)]);
    entries.push({ id: text(id, command), fields: Object.fromEntries(fields) });
  }
  return { entries, deleted };
}

/** XREADGROUP over one stream: null (timed out) or `[[stream, entries]]`. */
export function parseRead(value: unknown): EntryBatch {
  if (value === null) return { entries: [], deleted: [] };
  const streams = list(value, 'XREADGROUP');
  if (streams.length === 0) return { entries: [], deleted: [] };
  const [, entries] = list(streams[0], 'XREADGROUP');
  return parseEntries(entries, 'XREADGROUP');
}

/** XAUTOCLAIM: `[next, entries, deletedIds]` (Redis 7; Redis 6.2 has no third element). */
export function parseClaim(value: unknown): ClaimResult {
  const [next, entries, deleted] = list(value, 'XAUTOCLAIM');
  const batch = parseEntries(entries, 'XAUTOCLAIM');
  const gone = deleted === undefined ? [] : list(deleted, 'XAUTOCLAIM').map((id) => text(id, 'XAUTOCLAIM'));
  return { next: text(next, 'XAUTOCLAIM'), entries: batch.entries, deleted: [...batch.deleted, ...gone] };
}

/** XPENDING summary form: `[count, minId, maxId, [[consumer, count]...]]`. */
export function parsePendingSummary(value: unknown): PendingSummary {
  const [total, minId, maxId, consumers] = list(value, 'XPENDING');
  return {
    count: count(total, 'XPENDING'),
    minId: minId === null ? null : text(minId, 'XPENDING'),
    maxId: maxId === null ? null : text(maxId, 'XPENDING'),
    consumers:
      consumers === null
        ? []
        : list(consumers, 'XPENDING').map((pair) => {
            const [name, n] = list(pair, 'XPENDING');
            return { name: text(name, 'XPENDING'), count: count(n, 'XPENDING') };
          }),
  };
}

/** XPENDING extended form: `[[id, consumer, idleMs, deliveries]...]`. */
export function parsePendingEntries(value: unknown): PendingEntry[] {
  return list(value, 'XPENDING').map((row) => {
    const [id, consumer, idle, deliveries] = list(row, 'XPENDING');
    return {
      id: text(id, 'XPENDING'),
      consumer: text(consumer, 'XPENDING'),
      idleMs: count(idle, 'XPENDING'),
      deliveries: count(deliveries, 'XPENDING'),
    };
  });
}

/** XINFO GROUPS: one flat `[name, value, ...]` list per group (RESP2 shape, which ioredis 6 keeps by default). */
export function parseGroups(value: unknown): GroupInfo[] {
  return list(value, 'XINFO GROUPS').map((flat) => {
    const pairs = list(flat, 'XINFO GROUPS');
    const info = new Map<string, unknown>();
    for (let i = 0; i + 1 < pairs.length; i += 2) info.set(text(pairs[i], 'XINFO GROUPS'), pairs[i + 1]);
    const optional = (name: string): number | null => {
      const v = info.get(name);
      return v === null || v === undefined ? null : count(v, 'XINFO GROUPS');
    };
    return {
      name: text(info.get('name'), 'XINFO GROUPS'),
      consumers: count(info.get('consumers'), 'XINFO GROUPS'),
      pending: count(info.get('pending'), 'XINFO GROUPS'),
      lastDeliveredId: text(info.get('last-delivered-id'), 'XINFO GROUPS'),
      entriesRead: optional('entries-read'),
      lag: optional('lag'),
    };
  });
}

/** XINFO CONSUMERS: one flat `[name, value, ...]` list per consumer. */
export function parseConsumers(value: unknown): ConsumerInfo[] {
  return list(value, 'XINFO CONSUMERS').map((flat) => {
    const pairs = list(flat, 'XINFO CONSUMERS');
    const info = new Map<string, unknown>();
    for (let i = 0; i + 1 < pairs.length; i += 2) info.set(text(pairs[i], 'XINFO CONSUMERS'), pairs[i + 1]);
    const inactive = info.get('inactive');
    return {
      name: text(info.get('name'), 'XINFO CONSUMERS'),
      pending: count(info.get('pending'), 'XINFO CONSUMERS'),
      idleMs: count(info.get('idle'), 'XINFO CONSUMERS'),
      inactiveMs: inactive === undefined || inactive === null ? null : count(inactive, 'XINFO CONSUMERS'),
    };
  });
}
