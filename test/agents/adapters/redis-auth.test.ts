import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { RedisStreams } from '../../../src/agents/adapters/redis.js';
import { until } from '../../helpers/failover.js';
import { redisClients, rejection } from '../../helpers/redis.js';
import { withRedis } from '../../helpers/services.js';

const password = `right-${randomBytes(8).toString('hex')}`;
const wrong = `wrong-${randomBytes(8).toString('hex')}`;

describe('RedisStreams against a Redis that wants a password', () => {
  const redis = withRedis({ password });
  const clients = redisClients();

  /** Waits until both of the adapter's connections have been turned away, and returns what it shows. */
  const refused = async (streams: RedisStreams): Promise<string> => {
    const both = (): boolean => streams.state().lastError !== null && streams.state().reader.lastError !== null;
    await until('the server to refuse both connections', () => Promise.resolve(both()), 5000);
    return JSON.stringify(streams.state());
  };

  it('a wrong password is unauthorized, and neither password appears anywhere it reports', async () => {
    const streams = clients.streams(redis(), { password: wrong });
    const shown = await refused(streams);
    const state = streams.state();
    expect(state.connected).toBe(false);
    expect(state.lastError?.kind).toBe('unauthorized');
    expect(state.lastError?.message).toContain('WRONGPASS');
    expect(state.reader.lastError?.kind).toBe('unauthorized');

    const call = await rejection(streams.length('s'));
    const read = await rejection(streams.read({ stream: 's', group: 'g', consumer: 'c', count: 1, blockMs: 100 }));
    for (const error of [call, read]) {
      expect(error.kind).toBe('unauthorized');
      expect(error.message).toMatch(/rejected the username or password \(WRONGPASS\)/);
      expect(error.cause).toBeUndefined();
    }
    for (const text of [shown, call.message, call.stack, read.message, read.stack, JSON.stringify(call)]) {
      expect(text).not.toContain(wrong);
      expect(text).not.toContain(password);
    }
  });

  it('no password is unauthorized with a message that asks for one', async () => {
    const streams = clients.streams(redis());
    await refused(streams);
    expect(streams.state().lastError).toMatchObject({ kind: 'unauthorized' });
    expect(streams.state().lastError?.message).toContain('requires a password (NOAUTH)');
    expect((await rejection(streams.length('s'))).kind).toBe('unauthorized');
  });

  it('the right password connects', async () => {
    const streams = clients.streams(redis(), { password });
    expect(await streams.waitConnected(5000)).toBe(true);
    expect(await streams.ensureGroup('s', 'g')).toBe('created');
    expect(streams.state()).toMatchObject({ connected: true, lastError: null });
  });
});
