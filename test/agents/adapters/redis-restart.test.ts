import { describe, expect, it } from 'vitest';
import { redisReconnectBackoff, type RedisStreams } from '../../../src/agents/adapters/redis.js';
import { until } from '../../helpers/failover.js';
import { redisClients, rejection, untilBlocked } from '../../helpers/redis.js';
import { withRedis } from '../../helpers/services.js';

/** One change of the command connection's or the reader's `connected`, as onChange saw it. */
interface Transition {
  readonly link: 'commands' | 'reader';
  readonly connected: boolean;
  readonly at: number;
}

describe('RedisStreams across a Redis restart', () => {
  const redis = withRedis({ persistent: true });
  const clients = redisClients();

  it('fails the blocked read, reconnects with backoff, and resumes without losing or redelivering entries', async () => {
    const server = redis();
    const transitions: Transition[] = [];
    const delays: number[] = [];
    const last = { commands: false, reader: false };
    const streams: RedisStreams = clients.streams(server, {
      onChange: () => {
        const state = streams.state();
        for (const [link, now] of [
          ['commands', state.connected],
          ['reader', state.reader.connected],
        ] as const) {
          if (last[link] !== now) transitions.push({ link, connected: now, at: performance.now() });
          last[link] = now;
        }
        if (state.retryDelayMs !== null && delays.length < state.attempts) delays.push(state.retryDelayMs);
      },
    });
    expect(await streams.waitConnected(5000)).toBe(true);
    const stream = 'scale-events';
    const group = 'autoscaler';
    await streams.ensureGroup(stream, group);
    const acked = await streams.add(stream, { replicas: '2' });
    const unacked = await streams.add(stream, { replicas: '3' });
    const first = await streams.read({ stream, group, consumer: 'c1', count: 10, blockMs: 1000 });
    expect(first.entries.map((e) => e.id)).toEqual([acked, unacked]);
    expect(await streams.ack(stream, group, [acked])).toBe(1);

    const reading = streams.read({ stream, group, consumer: 'c1', count: 10, blockMs: 30_000 }).then(
      (batch) => ({ batch, error: null }),
      (error: Error & { kind?: string }) => ({ batch: null, error }),
    );
    await untilBlocked(clients.raw(server), 'test-reader');
    const transitionsBefore = transitions.length;
    await server.restart(async () => {
      await until('three reconnect attempts while Redis is down', () => Promise.resolve(delays.length >= 3), 15_000);
      expect(streams.state()).toMatchObject({ connected: false, lastError: { kind: 'unavailable' } });
    });
    const upAt = performance.now();

    const ended = await reading;
    if (ended.error !== null) expect(ended.error.kind).toBe('unavailable');
    else expect(ended.batch.entries).toEqual([]);

    await until('both connections back', () => Promise.resolve(last.commands && last.reader), 15_000);
    const during = transitions.slice(transitionsBefore);
    const commands = during.filter((t) => t.link === 'commands').map((t) => t.connected);
    const reader = during.filter((t) => t.link === 'reader').map((t) => t.connected);
    expect(commands).toEqual([false, true]);
    expect(reader).toEqual([false, true]);
    for (const [attempt, delay] of delays.entries()) {
      const cap = Math.min(redisReconnectBackoff.maxMs, redisReconnectBackoff.baseMs * 2 ** attempt);
      expect(delay).toBeLessThanOrEqual(cap);
      expect(delay).toBeGreaterThanOrEqual(Math.floor(cap * (1 - redisReconnectBackoff.jitter)));
    }
    const downAt = during[0]!.at;
    const backAt = Math.max(...during.filter((t) => t.connected).map((t) => t.at));
    console.log(
      `redis restart: adapter disconnected for ${Math.round(backAt - downAt)} ms, ` +
        `reconnected ${Math.round(backAt - upAt)} ms after the restarted server answered PING; ` +
        `reconnect delays ${delays.join(', ')} ms`,
    );

    expect(await streams.pending(stream, group)).toMatchObject({ count: 1, minId: unacked, maxId: unacked });
    const after = await streams.add(stream, { replicas: '4' });
    const resumed = await streams.read({ stream, group, consumer: 'c1', count: 10, blockMs: 5000 });
    expect(resumed.entries).toEqual([{ id: after, fields: { replicas: '4' } }]);
    const own = await streams.read({ stream, group, consumer: 'c1', count: 10, blockMs: 1000, pending: true });
    expect(own.entries.map((e) => e.id)).toEqual([unacked, after]);
    expect(await streams.length(stream)).toBe(3);
  });

  it('a read while Redis is down waits for the connection and fails as unavailable', async () => {
    const server = redis();
    const streams = clients.streams(server);
    expect(await streams.waitConnected(5000)).toBe(true);
    await streams.ensureGroup('down', 'g');
    await server.restart(async () => {
      await until('the reader to see Redis gone', () => Promise.resolve(!streams.state().reader.connected), 5000);
      const startedAt = performance.now();
      const error = await rejection(
        streams.read({ stream: 'down', group: 'g', consumer: 'c', count: 1, blockMs: 300 }),
      );
      expect(error.kind).toBe('unavailable');
      expect(performance.now() - startedAt).toBeGreaterThanOrEqual(290);
    });
    expect(await streams.waitConnected(10_000)).toBe(true);
    expect((await streams.groups('down')).map((g) => g.name)).toEqual(['g']);
  });

  it('a frozen Redis (SIGSTOP) times calls and blocked reads out instead of hanging them', async () => {
    const server = redis();
    const commandTimeoutMs = 300;
    const streams = clients.streams(server, { commandTimeoutMs });
    expect(await streams.waitConnected(5000)).toBe(true);
    await streams.ensureGroup('frozen', 'g');
    const blockMs = 200;
    const reading = rejection(streams.read({ stream: 'frozen', group: 'g', consumer: 'c', count: 1, blockMs }));
    await untilBlocked(clients.raw(server), 'test-reader');
    server.kill('SIGSTOP');
    try {
      const startedAt = performance.now();
      const call = await rejection(streams.length('frozen'));
      expect(call.kind).toBe('timeout');
      expect(performance.now() - startedAt).toBeLessThan(commandTimeoutMs + 500);
      expect(streams.state()).toMatchObject({ lastError: { kind: 'timeout' } });
      const read = await reading;
      expect(read.kind).toBe('timeout');
      expect(read.message).toContain(`did not answer a read blocking ${blockMs} ms`);
      expect(streams.state().reader.lastError).toMatchObject({ kind: 'timeout' });
      expect(performance.now() - startedAt).toBeLessThan(blockMs + 5000);
    } finally {
      server.kill('SIGCONT');
    }
    expect(await streams.waitConnected(10_000)).toBe(true);
    expect(await streams.length('frozen')).toBe(0);
  });
});
