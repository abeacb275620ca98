import { PgdeckError } from '../kernel/errors.js';
import type { RedisLink } from './redis-link.js';
import type { StreamEntry } from './redis-replies.js';

/** Fields added to the original fields of an entry moved to a dead-letter stream. */
export const deadLetterFields = { reason: 'dlq.reason', stream: 'dlq.stream', group: 'dlq.group', id: 'dlq.id' };

export interface DeadLetterMove {
  readonly stream: string;
  readonly group: string;
  readonly entry: StreamEntry;
  readonly deadLetterStream: string;
  readonly reason: string;
}

/**
 * XADD to the dead-letter stream, then XACK of the original, in one script: Redis runs it atomically,
 * and a failing XADD (a dead-letter key of another type) stops it before the XACK, so the entry stays
 * pending instead of being acknowledged and lost. (A MULTI would run the XACK after a failed XADD.)
 */
const MOVE_SCRIPT = `local id = redis.call('XADD', KEYS[1], '*', unpack(ARGV, 3))
redis.call('XACK', KEYS[2], ARGV[1], ARGV[2])
return id`;

/** Moves an entry to a dead-letter stream with its reason and origin and acknowledges it; returns the new ID. */
export async function moveToDeadLetter(link: RedisLink, move: DeadLetterMove): Promise<string> {
  const { stream, group, entry, deadLetterStream, reason } = move;
  const fields = {
    ...entry.fields,
    [deadLetterFields.reason]: reason,
    [deadLetterFields.stream]: stream,
    [deadLetterFields.group]: group,
    [deadLetterFields.id]: entry.id,
  };
  let id: unknown;
  try {
    id = await link.client.eval(
      MOVE_SCRIPT,
      2,
      deadLetterStream,
      stream,
      group,
      entry.id,
      ...Object.entries(fields).flat(),
    );
  } catch (error) {
    throw link.failure(error, 'XADD+XACK (dead letter)', deadLetterStream, group);
  }
  if (typeof id !== 'string') throw new PgdeckError('internal', `XADD to "${deadLetterStream}" returned no ID`);
  return id;
}
