import { PgdeckError, errorKind, errorMessage } from '../agents/kernel/errors.js';
import { ConfigError } from '../config-issues.js';

/** Exit codes: 0 ok, 1 a runtime failure (unreachable, refused), 2 a user mistake (flags, config, arguments). */
export function exitCodeFor(error: unknown): number {
  const kind = errorKind(error);
  return kind === 'config' || kind === 'invalid-argument' || kind === 'not-found' ? 2 : 1;
}

/** One line for the person, never a stack trace; internal errors say where to look instead. */
export function oneLine(error: unknown): string {
  const message = error instanceof PgdeckError ? error.message : `unexpected error: ${errorMessage(error)}`;
  return `pgdeck: ${message.split('\n')[0]}`;
}

/** What stderr shows: one line per problem (a configuration reports all of its problems at once). */
export function errorLines(error: unknown): string[] {
  if (error instanceof ConfigError) return error.lines.map((line) => `pgdeck: ${line.split('\n')[0]}`);
  return [oneLine(error)];
}

export class UsageError extends PgdeckError {
  constructor(message: string) {
    super('invalid-argument', message);
  }
}
