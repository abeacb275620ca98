import type { AgentControl, AgentReader, AgentSnapshot } from '../../agents/kernel/snapshot.js';
import type { SourceView } from '../module.js';

/**
 * The log source every handle serves first: the agent's own journal (the kernel's convention; a
 * `LogTail` names the others in `sources`). The console asks for it, then for what it advertises.
 */
export const JOURNAL_LOG = 'daemon';

/**
 * The optional `/logs` method an in-process or attached handle may offer on its reader or control:
 * `logs(source, lines)`, resolving to a `LogTail`, or to the last lines as a string or an array.
 */
type LogsMethod = (source: string, lines: number) => Promise<unknown>;

/** What the console is given per agent instance: its reader and, unless it is read-only, its control. */
export interface ConsoleSource {
  readonly reader: AgentReader;
  readonly control?: AgentControl;
  /** The handle's own `logs` (attached: `GET /logs`; in-process: the journal and the agent's log sources). */
  readonly logs?: LogsMethod;
}

/** One answer of a source's logs: its lines and, when it says so, every source it offers. */
export interface LogAnswer {
  readonly lines: readonly string[];
  readonly sources: readonly string[] | undefined;
}

export type LogsFn = (source: string, lines: number) => Promise<LogAnswer>;

function logsMethod(value: unknown): LogsMethod | undefined {
  const method = (value as { logs?: unknown } | undefined)?.logs;
  return typeof method === 'function' ? (method as LogsMethod).bind(value) : undefined;
}

/** The source's `logs`, if its control or reader has one, with its answer as lines. */
export function logsOf(source: ConsoleSource): LogsFn | undefined {
  const method = source.logs ?? logsMethod(source.control) ?? logsMethod(source.reader);
  if (method === undefined) return undefined;
  return async (source, lines) => {
    const answer = await method(source, lines);
    return { lines: asLines(answer), sources: advertised(answer) };
  };
}

function advertised(answer: unknown): readonly string[] | undefined {
  const list = (answer as { sources?: unknown } | null)?.sources;
  return Array.isArray(list) && list.every((s) => typeof s === 'string') ? (list as string[]) : undefined;
}

export function asLines(answer: unknown): readonly string[] {
  if (typeof answer === 'string') return answer.split('\n').filter((l, i, all) => l !== '' || i < all.length - 1);
  const list = Array.isArray(answer) ? answer : (answer as { lines?: unknown } | null)?.lines;
  if (!Array.isArray(list)) return [JSON.stringify(answer)];
  return list.map((line) => (typeof line === 'string' ? line : JSON.stringify(line)));
}

function hostOf(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    return new URL(url).host;
  } catch {
    return undefined;
  }
}

/** How the console shows one source: live or not, and why not. */
export function sourceView(id: string, snapshot: AgentSnapshot, canAct: boolean, offersLogs: boolean): SourceView {
  const { source, identity, health } = snapshot;
  const attached = source.mode === 'attached';
  // An attached reader names itself after the URL's host until the agent's first snapshot arrives.
  const identified = !attached || identity.kind !== hostOf(source.url);
  const live = source.connected && !source.stale;
  const status = live ? 'live' : identified ? 'stale' : 'connecting';
  const lastError =
    health.lastError === undefined ? undefined : `${health.lastError.kind}: ${health.lastError.message}`;
  const why =
    source.lastError ?? (live ? lastError : identified ? 'connection lost, reconnecting' : 'no answer yet: connecting');
  return {
    id,
    snapshot,
    identified,
    live,
    status,
    why,
    where: attached ? (source.via ?? source.url ?? 'attached') : 'in-process',
    canAct,
    offersLogs,
  };
}
