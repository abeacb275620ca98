import { setTimeout as delay } from 'node:timers/promises';
import { PgLink } from '../../agents/adapters/pg.js';

/** Through a proxy a session can be cut while the proxy moves to a new primary: three tries. */
async function withServer<T>(port: number, use: (link: PgLink) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const link = new PgLink({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' }, 5000);
    try {
      return await use(link);
    } catch (error) {
      if (attempt === 3) throw error;
      await delay(500);
    } finally {
      await link.close();
    }
  }
}

/** Each probe run numbers its writes from 1 again, so it starts on an empty table. */
export const resetProbeTable = (port: number): Promise<void> =>
  withServer(port, async (link) => {
    await link.query('DROP TABLE IF EXISTS probe');
  });

/** The probe's sequence numbers the server on `port` holds. */
export const probeSeqs = (port: number): Promise<Set<number>> =>
  withServer(port, async (link) => {
    const rows = await link.query<{ seq: string }>('SELECT seq FROM probe');
    return new Set(rows.rows.map((r) => Number(r.seq)));
  });
