import type { AgentSnapshot, SourceInfo } from '../agents/kernel/snapshot.js';
import { describeFailure } from '../agents/wire/attach-errors.js';
import { requestJson } from '../agents/wire/attach-http.js';
import { paths } from '../agents/wire/protocol.js';
import { formatLsn } from '../ui/format.js';
import { yaml } from '../yaml-on-demand.js';
import { UsageError } from './exit.js';
import { formatTable } from './format-table.js';

export const outputFormats = ['table', 'json', 'yaml'] as const;
export type OutputFormat = (typeof outputFormats)[number];

/** `-o VALUE`, or one line naming the valid choices. */
export function parseOutputFormat(value: unknown): OutputFormat {
  const found = outputFormats.find((f) => f === value);
  if (found === undefined)
    throw new UsageError(
      `-o/--output: expected one of ${outputFormats.join(', ')}, got "${String(value).slice(0, 40)}"`,
    );
  return found;
}

/** What one URL gave: its snapshot, or why there was none. */
export type StatusEntry =
  | { readonly kind: 'answered'; readonly url: string; readonly snapshot: AgentSnapshot }
  | { readonly kind: 'unreachable'; readonly url: string; readonly reason: string };

/** Each URL's `/state`, read once and at the same time; a failure is an entry, not an exception. */
export async function fetchStatus(
  urls: readonly string[],
  token: string | undefined,
  timeoutMs = 5000,
): Promise<StatusEntry[]> {
  for (const url of urls) {
    const protocol = URL.canParse(url) ? new URL(url).protocol : '';
    if (protocol !== 'http:' && protocol !== 'https:')
      throw new UsageError(`status: not an agent URL: "${url.slice(0, 80)}" (expected http://host:port)`);
  }
  return Promise.all(urls.map((url) => fetchOne(url, token, timeoutMs)));
}

async function fetchOne(url: string, token: string | undefined, timeoutMs: number): Promise<StatusEntry> {
  const base = url.replace(/\/+$/, '');
  try {
    const snapshot = await requestJson<AgentSnapshot>(base, paths.state, {
      method: 'GET',
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      timeoutMs,
      signal: new AbortController().signal,
    });
    const source: SourceInfo = { mode: 'attached', url, connected: true, stale: false };
    return { kind: 'answered', url, snapshot: { ...snapshot, source } };
  } catch (error) {
    return { kind: 'unreachable', url, reason: describeFailure(error) };
  }
}

/** An unreachable source as the snapshot-shaped object `-o json|yaml` prints for it. */
function unreachableSource(url: string, reason: string): { readonly source: SourceInfo } {
  return { source: { mode: 'attached', url, connected: false, stale: true, lastError: reason } };
}

export function renderStatus(entries: readonly StatusEntry[], format: OutputFormat): string {
  const objects = entries.map((e) => (e.kind === 'answered' ? e.snapshot : unreachableSource(e.url, e.reason)));
  switch (format) {
    case 'json':
      return JSON.stringify(objects, null, 2);
    case 'yaml':
      return yaml().stringify(objects);
    case 'table':
      return renderTable(entries);
    default: {
      const never: never = format;
      throw new UsageError(`-o/--output: unknown format ${String(never)}`);
    }
  }
}

function renderTable(entries: readonly StatusEntry[]): string {
  const agents = formatTable(
    ['AGENT', 'SOURCE', 'HEALTH', 'READY', 'SUMMARY'],
    entries.map((e) =>
      e.kind === 'answered'
        ? [
            e.snapshot.agent,
            e.url,
            e.snapshot.health.status,
            e.snapshot.health.ready ? 'yes' : 'no',
            e.snapshot.summary,
          ]
        : ['-', e.url, 'UNREACHABLE', '-', e.reason],
    ),
  );
  const members = entries.flatMap((e) => (e.kind === 'answered' ? memberTable(e.snapshot) : []));
  return [agents, ...members].join('\n\n');
}

/** One line per unreachable source for stderr: `status: http://pg1:8008: refused`. */
export function statusFailures(entries: readonly StatusEntry[]): string[] {
  return entries.flatMap((e) => (e.kind === 'unreachable' ? [`status: ${e.url}: ${e.reason}`] : []));
}

/** Agents that publish `members` (a cluster's members) get a members table, as `patronictl list` does. */
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
