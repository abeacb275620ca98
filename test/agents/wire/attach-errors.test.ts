import { describe, expect, it } from 'vitest';
import { PgdeckError } from '../../../src/agents/kernel/errors.js';
import { AgentUnreachable, describeFailure, statusError } from '../../../src/agents/wire/attach-errors.js';

const fetchFailed = (cause: unknown): Error => new TypeError('fetch failed', { cause });
const coded = (code: string, message = code, extra: Record<string, unknown> = {}): Error =>
  Object.assign(new Error(message), { code, ...extra });

describe('describeFailure', () => {
  it.each([
    [fetchFailed(coded('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1')), 'refused'],
    [fetchFailed(new AggregateError([coded('ECONNREFUSED'), coded('ECONNREFUSED')])), 'refused'],
    [fetchFailed(coded('ENOTFOUND', 'getaddrinfo ENOTFOUND pg9', { hostname: 'pg9' })), 'DNS: cannot resolve pg9'],
    [
      fetchFailed(coded('EAI_AGAIN', 'getaddrinfo EAI_AGAIN pg9', { hostname: 'pg9' })),
      'DNS: cannot resolve pg9 (resolver not answering)',
    ],
    [fetchFailed(coded('DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate')), 'TLS: self-signed certificate'],
    [
      fetchFailed(
        coded('ERR_SSL_WRONG_VERSION_NUMBER', 'C0:error:0A00010B:SSL routines:ssl3_get_record:wrong version number'),
      ),
      'TLS: wrong version number',
    ],
    [fetchFailed(coded('UND_ERR_CONNECT_TIMEOUT', 'Connect Timeout Error')), 'timeout'],
    [new TypeError('terminated', { cause: coded('UND_ERR_SOCKET', 'other side closed') }), 'closed by the agent'],
    [fetchFailed(new Error('bad port')), 'bad port: fetch refuses to connect to this port number'],
    [statusError(401, { error: { code: 'unauthorized', message: 'wrong bearer token' } }), '401: wrong token'],
    [
      statusError(401, { error: { code: 'unauthorized', message: 'missing bearer token: send it' } }),
      '401: no token sent',
    ],
    [statusError(503, { error: { code: 'unavailable', message: 'at its limit' } }), '503: at its limit'],
    [statusError(502, undefined), '502: HTTP 502'],
    [new AgentUnreachable('timeout', 'timeout', 'the agent at x did not answer within 5 ms'), 'timeout'],
    [new PgdeckError('precondition', 'the agent speaks wire protocol 2'), 'the agent speaks wire protocol 2'],
  ])('%s', (error, reason) => {
    expect(describeFailure(error)).toBe(reason);
  });
});
