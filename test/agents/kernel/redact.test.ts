import { describe, expect, it } from 'vitest';
import { MASK, isSecretKey, redact, redactText } from '../../../src/agents/kernel/redact.js';

describe('redact', () => {
  it('recognises secret keys', () => {
    for (const key of [
      'password',
      'PGPASSWORD',
      'passwd',
      'pass',
      'db_pass',
      'dbPass',
      'clientSecret',
      'token',
      'bearerToken',
      'private_key',
      'apiKey',
      'api-key',
      'credentials',
    ]) {
      expect(isSecretKey(key), key).toBe(true);
    }
    for (const key of ['host', 'port', 'user', 'passes', 'passMs', 'bypass', 'lsn'])
      expect(isSecretKey(key), key).toBe(false);
  });

  it('masks secret values deeply, in arrays too, and leaves empty ones', () => {
    const input = { user: 'app', password: 's3cret', nested: [{ token: 't0k' }, { host: 'h' }], empty: { secret: '' } };
    expect(redact(input)).toEqual({
      user: 'app',
      password: MASK,
      nested: [{ token: MASK }, { host: 'h' }],
      empty: { secret: '' },
    });
    expect(input.password).toBe('s3cret');
    expect(redact('plain')).toBe('plain');
    expect(redact(null)).toBe(null);
  });

  it('masks passwords inside connection strings and key=value text', () => {
    expect(redactText('postgres://app:s3cret@db:5432/x')).toBe(`postgres://app:${MASK}@db:5432/x`);
    expect(redactText('host=db password=s3cret user=app')).toBe(`host=db password=${MASK} user=app`);
    expect(redactText('?token=abc&x=1')).toBe(`?token=${MASK}&x=1`);
    expect(redactText('nothing here')).toBe('nothing here');
  });
});
