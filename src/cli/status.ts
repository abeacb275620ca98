import { stringify } from 'yaml';
import { PgdeckError } from '../agents/kernel/errors.js';
import type { AgentSnapshot } from '../agents/kernel/snapshot.js';
import { attachAgent } from '../agents/wire/attach.js';
import { formatLsn } from '../ui/rows/failover-rows.js';
import { formatTable } from './format-table.js';

export type OutputFormat = 'table' | 'json' | 'yaml';

/** One snapshot from each URL: the state the TUI would show, read once. */
export async function fetchSnapshots(
  urls: readonly string[],
  token: string | undefined,
  timeoutMs = 5000,
): Promise<AgentSnapshot[]> {
  return Promise.all(urls.map((url) => fetchOne(url, token, timeoutMs)));
}

async function fetchOne(url: string, token: string | undefined, timeoutMs: number): Promise<AgentSnapshot> {
  const handle = attachAgent(url, { ...(token === undefined ? {} : { token }), requestTimeoutMs: timeoutMs });
  try {
    return await new Promise<AgentSnapshot>((resolve, reject) => {
      const timer = setTimeout(() => {
        unsubscribe();
        const why = handle.reader.getSnapshot().source.lastError;
        reject(
          new PgdeckError(
            'unavailable',
            `status: no answer from ${url} within ${timeoutMs} ms${why === undefined ? '' : `: ${why}`}`,
          ),
        );
      }, timeoutMs);
      const check = (): void => {
        const snapshot = handle.reader.getSnapshot();
        if (snapshot.source.connected && snapshot.version > 0) {
          clearTimeout(timer);
          unsubscribe();
          resolve(snapshot);
        }
      };
      const unsubscribe = handle.reader.subscribe(check);
      check();
    });
  } finally {
    await handle.close();
  }
}

export function renderStatus(snapshots: readonly AgentSnapshot[], format: OutputFormat): string {
  if (format === 'json') return JSON.stringify(snapshots, null, 2);
  if (format === 'yaml') return stringify(snapshots);
  const agents = formatTable(
    ['AGENT', 'SOURCE', 'HEALTH', 'READY', 'SUMMARY'],
    snapshots.map((s) => [
      s.agent,
      s.source.url ?? s.source.mode,
      s.health.status,
      s.health.ready ? 'yes' : 'no',
      s.summary,
    ]),
  );
  const members = snapshots.flatMap((s) => memberTable(s));
  return [agents, ...members].join('\n\n');
}

/** Agents that publish `members` (the failover agent) get a members table, as `patronictl list` does. */
function memberTable(snapshot: AgentSnapshot): string[] {
  const state = snapshot.state as { members?: unknown } | undefined;
  if (!Array.isArray(state?.members) || state.members.length === 0) return [];
  const rows = (state.members as Record<string, unknown>[]).map((m) => [
    String(m.name ?? ''),
    String(m.role ?? ''),
    String(m.state ?? ''),
    m.timeline == null ? '-' : String(m.timeline),
    typeof m.receivedLsn === 'number' ? formatLsn(m.receivedLsn) : '-',
    typeof m.lagBytes === 'number' ? String(m.lagBytes) : '-',
  ]);
  return [`${snapshot.agent} members:\n${formatTable(['MEMBER', 'ROLE', 'STATE', 'TL', 'LSN', 'LAG'], rows)}`];
}
