import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { PostgresControl } from '../../../src/agents/failover/postgres-control.js';
import { freePort } from '../../../src/lab/procs/ports.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

async function server(): Promise<{ pg: PostgresControl; start(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'pgdeck-exit-'));
  const port = await freePort();
  const pg = new PostgresControl({
    name: 'pg0',
    dataDir: join(dir, 'data'),
    host: '127.0.0.1',
    port,
    user: 'postgres',
    parameters: { fsync: 'off' },
    onExit: () => undefined,
  });
  cleanups.push(async () => {
    await pg.stop('immediate', 5000);
    rmSync(dir, { recursive: true, force: true });
  });
  await pg.init();
  await pg.initdb();
  const ready = async (): Promise<boolean> => {
    const client = new Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
    client.on('error', () => undefined);
    try {
      await client.connect();
      return true;
    } finally {
      await client.end().catch(() => undefined);
    }
  };
  return { pg, start: () => pg.start(ready, 30_000) };
}

describe('how the postmaster a daemon started ended', () => {
  it('a kill -9 is told apart from its own clean exit; unknown while it runs', async () => {
    const { pg, start } = await server();
    await start();
    expect(await pg.killed(200)).toBeNull();
    process.kill(pg.local().pid!, 'SIGKILL');
    await expect.poll(() => pg.local().running, { timeout: 5000 }).toBe(false);
    expect(await pg.killed(1000)).toBe(true);

    const clean = await server();
    await clean.start();
    await clean.pg.stop('fast', 10_000);
    expect(await clean.pg.killed(1000)).toBe(false);
  });
});
