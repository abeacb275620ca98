import type { Journal, Severity } from './journal.js';

/** The one logger interface: headless mode writes JSON lines, the TUI only the journal. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  child(bindings: Record<string, unknown>): Logger;
}

export type LineSink = (severity: Severity, message: string, fields: Record<string, unknown>) => void;

/**
 * Writes every line into a journal as a `log` event (debug lines only to the sink), and to an
 * optional extra sink (pino JSON lines in headless mode).
 */
export function journalLogger(journal: Journal, sink?: LineSink, bindings: Record<string, unknown> = {}): Logger {
  const write = (severity: Severity, message: string, fields: Record<string, unknown> = {}): void => {
    const all = { ...bindings, ...fields };
    sink?.(severity, message, all);
    if (severity !== 'debug') journal.append({ severity, kind: 'log', message, fields: all });
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    child: (more) => journalLogger(journal, sink, { ...bindings, ...more }),
  };
}

export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};
