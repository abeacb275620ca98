import type { JournalEvent } from '../../agents/kernel/journal.js';

export interface EventRow {
  readonly key: string;
  readonly time: string;
  readonly agent: string;
  readonly severity: string;
  readonly kind: string;
  readonly message: string;
}

/** The newest events first, debug lines left out, times as local HH:MM:SS. */
export function eventRows(events: readonly JournalEvent[], limit: number): EventRow[] {
  const rows: EventRow[] = [];
  for (let i = events.length - 1; i >= 0 && rows.length < limit; i--) {
    const e = events[i]!;
    if (e.severity === 'debug') continue;
    rows.push({
      key: `${e.agent}#${e.seq}`,
      time: clock(e.time),
      agent: e.agent,
      severity: e.severity,
      kind: e.kind,
      message: e.message,
    });
  }
  return rows;
}

export function clock(ms: number): string {
  const d = new Date(ms);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

/** Cuts `text` to `width` characters, marking the cut. */
export function fit(text: string, width: number): string {
  if (width <= 0) return '';
  return text.length <= width ? text.padEnd(width) : `${text.slice(0, Math.max(0, width - 1))}…`;
}
