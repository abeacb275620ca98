import { describe, expect, it } from 'vitest';
import { deadLetterFields, type RedisStreams } from '../../../src/agents/adapters/redis.js';
import { freePort } from '../../../src/lab/procs/ports.js';
import { until } from '../../helpers/failover.js';
import { redisClients, rejection, untilBlocked } from '../../helpers/redis.js';
import { withRedis } from '../../helpers/services.js';

describe('RedisStreams against a real Redis', () => {
  const redis = withRedis();
  const clients = redisClients();
  let streamNo = 0;
  /** A fresh stream and group per test, so tests share one server without sharing data. */
  const names = (): { stream: string; group: string } => {
    streamNo++;
    return { stream: `scale-${streamNo}`, group: `autoscaler-${streamNo}` };
  };
  const connected = async (): Promise<RedisStreams> => {
    const streams = clients.streams(redis());
    expect(await streams.waitConnected(5000)).toBe(true);
    return streams;
  };

  it('creates a group with its stream, and creating it again is fine', async () => {
    const streams = await connected();
    const { stream, group } = names();
    expect(await streams.ensureGroup(stream, group)).toBe('created');
    expect(await streams.ensureGroup(stream, group)).toBe('exists');
    expect(await streams.length(stream)).toBe(0);
    const [info, ...others] = await streams.groups(stream);
    expect(others).toEqual([]);
    expect(info).toMatchObject({ name: group, consumers: 0, pending: 0, lag: 0 });
    expect(streams.state()).toMatchObject({ connected: true, lastError: null, reader: { connected: true } });
  });

  it('reads new entries, acknowledges some, and reports what is pending and the lag', async () => {
    const streams = await connected();
    const { stream, group } = names();
    await streams.ensureGroup(stream, group);
    const ids = [];
    for (const replicas of ['2', '3', '4']) ids.push(await streams.add(stream, { cluster: 'pg-a', replicas }));
    expect((await streams.groups(stream))[0]).toMatchObject({ pending: 0, lag: 3 });

    const read = await streams.read({ stream, group, consumer: 'c1', count: 10, blockMs: 1000 });
    expect(read.entries).toEqual([
      { id: ids[0], fields: { cluster: 'pg-a', replicas: '2' } },
      { id: ids[1], fields: { cluster: 'pg-a', replicas: '3' } },
      { id: ids[2], fields: { cluster: 'pg-a', replicas: '4' } },
    ]);
    expect(await streams.pending(stream, group)).toEqual({
      count: 3,
      minId: ids[0],
      maxId: ids[2],
      consumers: [{ name: 'c1', count: 3 }],
    });

    expect(await streams.ack(stream, group, [ids[0]!, ids[1]!])).toBe(2);
    expect(await streams.ack(stream, group, [ids[0]!])).toBe(0);
    const [left, ...more] = await streams.pendingEntries(stream, group);
    expect(more).toEqual([]);
    expect(left).toMatchObject({ id: ids[2], consumer: 'c1', deliveries: 1 });
    expect((await streams.groups(stream))[0]).toMatchObject({ pending: 1, lag: 0, consumers: 1 });
    const own = await streams.read({ stream, group, consumer: 'c1', count: 10, blockMs: 1000, pending: true });
    expect(own.entries.map((e) => e.id)).toEqual([ids[2]]);
    expect(await streams.length(stream)).toBe(3);
  });

  it('a blocked read returns the entry written while it waits', async () => {
    const streams = await connected();
    const { stream, group } = names();
    await streams.ensureGroup(stream, group);
    const reading = streams.read({ stream, group, consumer: 'c1', count: 10, blockMs: 10_000 });
    await untilBlocked(clients.raw(redis()), 'test-reader');
    const id = await streams.add(stream, { event: 'scale-up' });
    expect((await reading).entries).toEqual([{ id, fields: { event: 'scale-up' } }]);
  });

  it('autoclaim moves a dead consumer’s pending entries to another consumer', async () => {
    const { stream, group } = names();
    const dead = await connected();
    await dead.ensureGroup(stream, group);
    const ids = [await dead.add(stream, { n: '1' }), await dead.add(stream, { n: '2' })];
    expect((await dead.read({ stream, group, consumer: 'dead', count: 10, blockMs: 1000 })).entries).toHaveLength(2);
    dead.close();

    const alive = await connected();
    const minIdleMs = 100;
    expect((await alive.autoclaim(stream, group, 'alive', { minIdleMs: 60_000 })).entries).toEqual([]);
    await until(
      `the entries idle for ${minIdleMs} ms`,
      async () => (await alive.pendingEntries(stream, group, { minIdleMs })).length === 2,
      5000,
    );
    const claimed = await alive.autoclaim(stream, group, 'alive', { minIdleMs });
    expect(claimed).toEqual({
      next: '0-0',
      entries: [
        { id: ids[0], fields: { n: '1' } },
        { id: ids[1], fields: { n: '2' } },
      ],
      deleted: [],
    });
    expect((await alive.pending(stream, group)).consumers).toEqual([{ name: 'alive', count: 2 }]);
    const moved = await alive.pendingEntries(stream, group);
    expect(moved.map((p) => [p.id, p.consumer, p.deliveries])).toEqual([
      [ids[0], 'alive', 2],
      [ids[1], 'alive', 2],
    ]);
  });

  it('aborting the signal ends a blocked read within 100 ms, and the next read works', async () => {
    const streams = await connected();
    const { stream, group } = names();
    await streams.ensureGroup(stream, group);
    const controller = new AbortController();
    const reading = rejection(
      streams.read({ stream, group, consumer: 'c1', count: 10, blockMs: 30_000, signal: controller.signal }),
    );
    await untilBlocked(clients.raw(redis()), 'test-reader');
    const abortedAt = performance.now();
    controller.abort();
    const error = await reading;
    const tookMs = performance.now() - abortedAt;
    expect(error.kind).toBe('aborted');
    expect(tookMs).toBeLessThan(100);

    const id = await streams.add(stream, { after: 'abort' });
    const next = await streams.read({ stream, group, consumer: 'c1', count: 10, blockMs: 5000 });
    expect(next.entries).toEqual([{ id, fields: { after: 'abort' } }]);
  });

  it('moves an entry to a dead-letter stream with its reason, and acknowledges it', async () => {
    const streams = await connected();
    const { stream, group } = names();
    await streams.ensureGroup(stream, group);
    await streams.add(stream, { replicas: 'many' });
    const [entry] = (await streams.read({ stream, group, consumer: 'c1', count: 1, blockMs: 1000 })).entries;
    const deadId = await streams.deadLetter({
      stream,
      group,
      entry: entry!,
      deadLetterStream: `${stream}-dead`,
      reason: 'replicas is not a number',
    });
    expect((await streams.pending(stream, group)).count).toBe(0);
    const raw = clients.raw(redis());
    expect(await raw.xrange(`${stream}-dead`, '-', '+')).toEqual([
      [
        deadId,
        [
          'replicas',
          'many',
          deadLetterFields.reason,
          'replicas is not a number',
          deadLetterFields.stream,
          stream,
          deadLetterFields.group,
          group,
          deadLetterFields.id,
          entry!.id,
        ],
      ],
    ]);
  });

  it('a dead-letter move that cannot write leaves the entry pending, not acknowledged and lost', async () => {
    const streams = await connected();
    const { stream, group } = names();
    await streams.ensureGroup(stream, group);
    const id = await streams.add(stream, { replicas: 'many' });
    const [entry] = (await streams.read({ stream, group, consumer: 'c1', count: 1, blockMs: 1000 })).entries;
    await clients.raw(redis()).set(`${stream}-dead`, 'not a stream');
    const error = await rejection(
      streams.deadLetter({ stream, group, entry: entry!, deadLetterStream: `${stream}-dead`, reason: 'bad' }),
    );
    expect(error.kind).toBe('invalid');
    expect(error.message).toContain(`"${stream}-dead"`);
    expect(await streams.pending(stream, group)).toMatchObject({ count: 1, minId: id });
  });

  it('names wrong types, missing groups and bad IDs with the kind a caller can act on', async () => {
    const streams = await connected();
    const { stream, group } = names();
    await clients.raw(redis()).set('not-a-stream', 'x');

    const wrongType = await rejection(streams.length('not-a-stream'));
    expect(wrongType.kind).toBe('invalid');
    expect(wrongType.message).toContain('"not-a-stream"');
    expect(wrongType.message).toContain('WRONGTYPE');

    const noGroup = await rejection(streams.read({ stream, group, consumer: 'c1', count: 1, blockMs: 100 }));
    expect(noGroup.kind).toBe('not-found');
    expect(noGroup.message).toContain(`consumer group "${group}" does not exist on stream "${stream}"`);

    await streams.ensureGroup(stream, group);
    const badId = await rejection(streams.ack(stream, group, ['not-an-id']));
    expect(badId.kind).toBe('invalid');
    expect(badId.message).toContain('Invalid stream ID');

    const missing = await rejection(streams.groups('no-such-stream'));
    expect(missing.kind).toBe('not-found');
    expect(missing.message).toContain('stream "no-such-stream" does not exist');
  });
});

describe('RedisStreams with no server', () => {
  const clients = redisClients();

  it('reports the refused connection as state, retries with growing delays, and fails calls as unavailable', async () => {
    const port = await freePort();
    const delays: number[] = [];
    const streams: RedisStreams = clients.streams(
      { host: '127.0.0.1', port },
      {
        onChange: () => {
          const { retryDelayMs, attempts } = streams.state();
          if (retryDelayMs !== null && delays.length < attempts) delays.push(retryDelayMs);
        },
      },
    );
    await until('three reconnect attempts', () => Promise.resolve(streams.state().attempts >= 3), 10_000);
    const state = streams.state();
    expect(state.connected).toBe(false);
    expect(state.lastError).toMatchObject({ kind: 'unavailable' });
    expect(state.lastError?.message).toContain(`redis at 127.0.0.1:${port} refused the connection (ECONNREFUSED)`);
    expect(delays[0]).toBeLessThanOrEqual(100);
    expect(delays[delays.length - 1]).toBeGreaterThan(delays[0]!);
    const error = await rejection(streams.length('any'));
    expect(error.kind).toBe('unavailable');
    expect(error.message).toContain('ECONNREFUSED');
    const read = await rejection(streams.read({ stream: 's', group: 'g', consumer: 'c', count: 1, blockMs: 50 }));
    expect(read.kind).toBe('unavailable');
  });
});
