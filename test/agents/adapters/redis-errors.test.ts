import { describe, expect, it } from 'vitest';
import { redisError, scrub } from '../../../src/agents/adapters/redis-errors.js';
import { MASK } from '../../../src/agents/kernel/redact.js';

const ctx = { address: '10.0.0.7:6379', command: 'XREADGROUP', stream: 'scale', group: 'auto', secrets: ['hunter2'] };

/** An error as ioredis hands it over: a Redis error reply's text, or a socket error's code. */
function failure(message: string, code?: string): Error {
  return Object.assign(new Error(message), code === undefined ? {} : { code });
}

describe('redisError', () => {
  it.each([
    ['connect ECONNREFUSED 10.0.0.7:6379', 'unavailable', 'refused the connection (ECONNREFUSED)', 'ECONNREFUSED'],
    ['read ECONNRESET', 'unavailable', 'cannot be reached (ECONNRESET)', 'ECONNRESET'],
    ['LOADING Redis is loading the dataset in memory', 'unavailable', 'is loading its dataset'],
    ["Stream isn't writeable and enableOfflineQueue options is false", 'unavailable', 'not connected'],
    ['Reached the max retries per request limit (which is 0).', 'unavailable', 'lost the connection'],
    ['Command timed out', 'timeout', 'did not answer XREADGROUP'],
    ['NOAUTH Authentication required.', 'unauthorized', 'requires a password'],
    ['WRONGPASS invalid username-password pair or user is disabled.', 'unauthorized', 'WRONGPASS'],
    ['NOPERM User u has no permissions to run the xreadgroup command', 'forbidden', 'grant it in the ACL'],
    ['WRONGTYPE Operation against a key holding the wrong kind of value', 'invalid', 'not a stream'],
    ['NOGROUP No such key or consumer group', 'not-found', 'consumer group "auto" does not exist'],
    ['ERR syntax error', 'invalid', 'refused XREADGROUP "scale": ERR syntax error'],
    ['READONLY You can\u2019t write against a read only replica.', 'unavailable', 'read-only replica'],
    ['ERR something new', 'internal', 'XREADGROUP "scale" on redis at 10.0.0.7:6379 failed: ERR something new'],
  ])('%s -> %s', (message, kind, text, code?: string) => {
    const error = redisError(failure(message, code), ctx);
    expect(error.kind).toBe(kind);
    expect(error.message).toContain(text);
    expect(error.cause).toBeUndefined();
  });

  it('masks the password wherever it would appear', () => {
    const error = redisError(failure('ERR unknown user default:hunter2 in redis://default:hunter2@h:1'), ctx);
    expect(error.message).not.toContain('hunter2');
    expect(error.message).toContain(MASK);
    expect(scrub('password=abc and hunter2', ['hunter2'])).toBe(`password=${MASK} and ${MASK}`);
  });
});
