import { Client } from 'pg';
import { PostgresControl } from '../../src/agents/failover/postgres-control.js';
import { freePort } from '../../src/lab/procs/ports.js';

export interface TestServer {
  readonly pg: PostgresControl;
  readonly port: number;
  /** Starts the postmaster; resolves once it accepts connections. */
  start(): Promise<void>;
}

/** A server a test drives through PostgresControl alone (no daemon): on a free loopback port, fsync off. */
export async function testServer(name: string, dataDir: string): Promise<TestServer> {
  const port = await freePort();
  const pg = new PostgresControl({
    name,
    dataDir,
    host: '127.0.0.1',
    port,
    user: 'postgres',
    parameters: { fsync: 'off' },
    onExit: () => undefined,
  });
  await pg.init();
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
  return { pg, port, start: () => pg.start(ready, 30_000) };
}
