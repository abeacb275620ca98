import { open } from 'node:fs/promises';
import type { AgentLogs, LogSource } from '../kernel/agent.js';
import { PgdeckError, errorMessage } from '../kernel/errors.js';
import type { JournalEvent } from '../kernel/journal.js';
import { MASK } from '../kernel/redact.js';
import type { AgentReader } from '../kernel/snapshot.js';
import { logLimits } from './protocol.js';

/** At most this much of a log file's end is read, however many lines are asked for. */
export const maxTailBytes = 256 * 1024;
const maxLineChars = 4000;

const secretPatterns: readonly (readonly [RegExp, string])[] = [
  [/\b(password|passwd|pwd)(\s*=\s*)'(?:[^'\\]|\\.)*'/gi, `$1$2${MASK}`],
  [/\b(password|passwd|pwd|token|secret)=[^\s&;"',}]+/gi, `$1=${MASK}`],
  [/\b(password\s+)'(?:[^']|'')*'/gi, `$1'${MASK}'`],
  [/("[A-Za-z_]*(?:password|passwd|secret|token)"\s*:\s*)"(?:[^"\\]|\\.)*"/gi, `$1"${MASK}"`],
  [/(\/\/[^:/@\s]+:)[^@/\s]+@/g, `$1${MASK}@`],
];

/**
 * Masks secrets in one log line: conninfo `password=...` (quoted or not), SQL `PASSWORD '...'`,
 * JSON `"password": "..."`, `user:secret@` in URLs; long lines are cut.
 */
export function maskLogLine(line: string): string {
  const text = secretPatterns.reduce((out, [pattern, mask]) => out.replace(pattern, mask), line);
  return text.length > maxLineChars ? `${text.slice(0, maxLineChars)}…` : text;
}

/** A journal event as a log line: time, severity, kind, message, fields. */
export function formatEvent(event: JournalEvent): string {
  const fields = event.fields === undefined ? '' : ` ${JSON.stringify(event.fields)}`;
  return `${new Date(event.time).toISOString()} ${event.severity.toUpperCase()} ${event.kind}: ${event.message}${fields}`;
}

/** The newest `lines` lines of a file, reading at most `maxBytes` of its end; none when it does not exist yet. */
export async function tailFile(path: string, lines: number, maxBytes = maxTailBytes): Promise<string[]> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new PgdeckError('unavailable', `cannot read the log: ${errorMessage(error)}`, { cause: error });
  }
  try {
    const { size } = await handle.stat();
    // From one byte before the budget: what precedes the first newline is a partial line (or nothing).
    const start = Math.max(0, size - maxBytes - 1);
    const buffer = Buffer.alloc(size - start);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, start);
    const all = buffer.subarray(0, bytesRead).toString('utf8').split('\n');
    if (start > 0) all.shift();
    if (all.at(-1) === '') all.pop();
    return all.slice(-lines);
  } finally {
    await handle.close();
  }
}

/** `lines` as asked on the wire: a positive integer, capped at `logLimits.maxLines`. */
export function logLineCount(raw: string | null): number {
  if (raw === null || raw === '') return logLimits.defaultLines;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new PgdeckError('invalid-argument', `lines: expected a positive integer, got "${raw.slice(0, 20)}"`, {
      field: 'lines',
    });
  return Math.min(n, logLimits.maxLines);
}

async function readSource(source: LogSource, lines: number): Promise<readonly string[]> {
  switch (source.kind) {
    case 'file':
      return tailFile(source.path, lines);
    case 'lines':
      return (await source.read(lines)).slice(-lines);
    default: {
      const never: never = source;
      throw new PgdeckError('internal', `unknown log source ${String(never)}`);
    }
  }
}

/**
 * An agent's logs by source: `daemon` is its own journal as lines, the rest come from the agent's
 * `logSources`. Every line is masked; at most `logLimits.maxLines` are returned.
 */
export function agentLogs(reader: AgentReader, sources: Readonly<Record<string, LogSource>> = {}): AgentLogs {
  const daemon = logLimits.daemonSource;
  const names = [daemon, ...Object.keys(sources).filter((name) => name !== daemon)];
  return {
    logs: async (source, asked) => {
      const lines = Number.isFinite(asked)
        ? Math.max(1, Math.min(Math.floor(asked), logLimits.maxLines))
        : logLimits.defaultLines;
      let raw: readonly string[];
      if (source === daemon) {
        const last = reader.events(0, 0).lastSeq;
        raw = reader.events(Math.max(0, last - lines), lines).events.map(formatEvent);
      } else {
        const found = Object.hasOwn(sources, source) ? sources[source] : undefined;
        if (found === undefined)
          throw new PgdeckError(
            'not-found',
            `no log source "${source.slice(0, 60)}"; this agent has ${names.join(', ')}`,
            {
              field: 'source',
            },
          );
        raw = await readSource(found, lines);
      }
      return { source, lines: raw.map(maskLogLine), sources: names };
    },
  };
}
