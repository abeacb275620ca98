import { describe, expect, it } from 'vitest';
import { PgdeckError, type ErrorKind } from '../../../src/agents/kernel/errors.js';
import { actionPath, errorFromWire, httpStatus, wireError } from '../../../src/agents/wire/protocol.js';

describe('wire protocol', () => {
  it.each<[ErrorKind, number]>([
    ['invalid-argument', 400],
    ['unauthorized', 401],
    ['not-found', 404],
    ['conflict', 409],
    ['precondition', 412],
    ['unavailable', 503],
    ['timeout', 504],
    ['internal', 500],
    ['config', 500],
    ['aborted', 500],
  ])('maps %s to HTTP %i and back', (kind, status) => {
    expect(httpStatus(kind)).toBe(status);
    const { body } = wireError(new PgdeckError(kind, 'detail', { field: 'x' }));
    const back = errorFromWire(status, body);
    expect(back.kind).toBe(status === 500 ? 'internal' : kind);
    expect(back.message).toBe(status === 500 ? 'internal error' : 'detail');
    expect(back.field).toBe(status === 500 ? undefined : 'x');
  });

  it('falls back to the status when the body is not a wire error', () => {
    expect(errorFromWire(404, 'oops')).toMatchObject({ kind: 'not-found', message: 'HTTP 404' });
    expect(errorFromWire(502, undefined)).toMatchObject({ kind: 'internal', message: 'HTTP 502' });
    expect(errorFromWire(409, { error: { code: 'made-up', message: 'm' } })).toMatchObject({
      kind: 'conflict',
      message: 'm',
    });
  });

  it('escapes action names in paths', () => {
    expect(actionPath('switchover')).toBe('/actions/switchover');
    expect(actionPath('a/b c', true)).toBe('/actions/a%2Fb%20c/preview');
  });
});
