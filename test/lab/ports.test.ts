import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { PgdeckError } from '../../src/agents/kernel/errors.js';
import { ephemeralLow, freePort, portTaken, retryOnPortTaken } from '../../src/lab/procs/ports.js';

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

describe('the pick', () => {
  it('lies below the ephemeral range, where outgoing connections cannot take it, and is never handed out twice', async () => {
    const low = ephemeralLow();
    const ports = await Promise.all(Array.from({ length: 200 }, () => freePort()));
    expect(new Set(ports).size).toBe(ports.length);
    for (const port of ports) {
      expect(port).toBeGreaterThan(10_080);
      expect(port).toBeLessThan(low);
    }
    const server = createServer();
    held.push(server);
    await new Promise<void>((resolve) => server.listen(ports[0], '127.0.0.1', resolve));
  });

  it('is above every port fetch refuses: 10080 is the highest of the bad ports', async () => {
    const refused = await fetch('http://127.0.0.1:10080/').catch((error: unknown) => error);
    expect(((refused as Error).cause as Error | undefined)?.message).toBe('bad port');
    const ports = await Promise.all(Array.from({ length: 200 }, () => freePort()));
    expect(Math.min(...ports)).toBeGreaterThan(10_080);
  });

  it("reads the range's low end from the kernel's file, and falls back to Linux's default", () => {
    const dir = mkdtempSync(join(tmpdir(), 'ports-'));
    try {
      writeFileSync(join(dir, 'range'), '40000\t60999\n');
      expect(ephemeralLow(join(dir, 'range'))).toBe(40_000);
      writeFileSync(join(dir, 'garbage'), 'none\n');
      expect(ephemeralLow(join(dir, 'garbage'))).toBe(32_768);
      expect(ephemeralLow(join(dir, 'missing'))).toBe(32_768);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
