import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { testServer, type TestServer } from '../../helpers/postgres-server.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

async function server(): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'pgdeck-exit-'));
  const s = await testServer('pg0', join(dir, 'data'));
  cleanups.push(async () => {
    await s.pg.stop('immediate', 5000);
    rmSync(dir, { recursive: true, force: true });
  });
  await s.pg.initdb();
  return s;
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
