import { pino, type DestinationStream } from 'pino';
import type { Severity } from '../kernel/journal.js';
import type { LineSink } from '../kernel/logger.js';
import { redact, redactText } from '../kernel/redact.js';

export type LogLevel = Severity | 'silent';

/**
 * The headless log sink: one JSON object per line (pino), secrets masked by the kernel's rules
 * before pino sees them. Writes to stdout unless given a destination.
 */
export function jsonLineSink(level: LogLevel, destination?: DestinationStream): LineSink {
  const logger = pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ?? pino.destination({ dest: 1, sync: true }),
  );
  return (severity, message, fields) => {
    logger[severity](redact(fields), redactText(message));
  };
}
