import type { TableRow, ViewDef } from '../module.js';
import { eventColumns, eventDetail, eventRows, type EventData } from '../rows/event-rows.js';

/** Every instance's journal and the audit trail of actions, newest first, repeats folded. */
export function eventsView(): ViewDef {
  const cache = new Map<string, TableRow>();
  return {
    id: 'events',
    title: 'Events',
    aliases: ['events', 'ev', 'journal'],
    model: (ctx) => {
      const rows = eventRows(ctx.events, ctx.groups.length > 1, cache);
      return {
        banner: [],
        tables: [
          { id: 'events', title: `EVENTS (${rows.length})`, columns: eventColumns, rows, empty: 'no events yet' },
        ],
      };
    },
    detail: (row) => {
      const data = row.data as EventData | undefined;
      return data?.type === 'event' ? eventDetail(data) : undefined;
    },
  };
}
