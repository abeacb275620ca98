import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { PgdeckError } from '../../src/agents/kernel/errors.js';
import { freePort, portTaken, retryOnPortTaken } from '../../src/lab/procs/ports.js';

const held: Server[] = [];
afterAll(() => held.forEach((s) => s.close()));

async function holdPort(): Promise<number> {
  const port = await freePort();
  const server = createServer();
  held.push(server);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return port;
}

describe('a port taken between the pick and the bind', () => {
  it('is recognised in what a real redis-server prints when its port is taken', async () => {
    const port = await holdPort();
    const run = spawnSync('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', ''], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(run.status).not.toBe(0);
    expect(portTaken(new PgdeckError('unavailable', `redis exited; last log lines:\n${run.stdout}`))).toBe(true);
    expect(portTaken(new PgdeckError('timeout', 'redis was not ready after 15000 ms'))).toBe(false);
  });

  it('starts again only for that cause, at most three times', async () => {
    const taken = (): never => {
      throw new PgdeckError('unavailable', 'postgres exited: could not bind IPv4 address: Address already in use');
    };
    const seen: number[] = [];
    const value = await retryOnPortTaken((attempt) => {
      seen.push(attempt);
      return attempt < 3 ? Promise.resolve(taken()) : Promise.resolve('up');
    });
    expect(value).toBe('up');
    expect(seen).toEqual([1, 2, 3]);

    let calls = 0;
    await expect(retryOnPortTaken(() => (calls++, Promise.resolve(taken())))).rejects.toThrow(/already in use/);
    expect(calls).toBe(3);

    let other = 0;
    const broken = (): Promise<never> => {
      other++;
      return Promise.reject(new PgdeckError('config', 'bad setting'));
    };
    await expect(retryOnPortTaken(broken)).rejects.toThrow('bad setting');
    expect(other).toBe(1);
  });
});
