import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PgLink } from '../../../src/agents/adapters/pg.js';
import { testServer, type TestServer } from '../../helpers/postgres-server.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function server(name: string, dir: string): Promise<TestServer> {
  const s = await testServer(name, join(dir, name));
  cleanups.push(() => s.pg.stop('immediate', 5000));
  return s;
}

/** A listener that takes connections and never answers: a walreceiver connecting to it hangs. */
async function silentListener(port: number): Promise<{ close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const listener: Server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => listener.listen(port, '127.0.0.1', resolve));
  return {
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    },
  };
}

describe('promotionPositions: whether a standby waits on a walreceiver that is reconnecting', () => {
  it('is false while it streams, true while its walreceiver hangs connecting, false again in the retry sleep', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pgdeck-promotion-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const primary = await server('pg0', dir);
    await primary.pg.initdb();
    await primary.start();
    const standby = await server('pg1', dir);
    await standby.pg.clone({ name: 'pg0', host: '127.0.0.1', port: primary.port });
    await standby.start();
    const link = new PgLink({ host: '127.0.0.1', port: standby.port, user: 'postgres', database: 'postgres' }, 2000);
    cleanups.push(() => link.close());

    await expect.poll(async () => (await link.receiverLag()).streaming, { timeout: 10_000, interval: 50 }).toBe(true);
    const streaming = await link.promotionPositions();
    expect(streaming.streamPending).toBe(false);
    expect(streaming.receivedLsn).not.toBeNull();

    await primary.pg.stop('fast', 10_000);
    const hang = await silentListener(primary.port);
    await expect
      .poll(async () => (await link.promotionPositions()).streamPending, { timeout: 10_000, interval: 20 })
      .toBe(true);

    await hang.close();
    await expect
      .poll(async () => (await link.promotionPositions()).streamPending, { timeout: 10_000, interval: 20 })
      .toBe(false);
  });
});
