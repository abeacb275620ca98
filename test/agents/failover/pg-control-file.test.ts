import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseControlFile } from '../../../src/agents/failover/pg-control-file.js';
import { pgRunAs, runPgTool } from '../../../src/agents/failover/pg-tools.js';
import { withPostgres } from '../../helpers/services.js';

/** What pg_controldata prints for the same data directory: the reference the parser must match. */
async function controldata(dataDir: string): Promise<{ lsn: number; cleanShutdown: boolean; timeline: number }> {
  const out = await runPgTool('pg_controldata', ['-D', dataDir], await pgRunAs());
  const field = (label: string): string => new RegExp(`^${label}:\\s*(.+)$`, 'm').exec(out)?.[1]?.trim() ?? '';
  const [hi, lo] = field('Latest checkpoint location').split('/');
  return {
    lsn: parseInt(hi!, 16) * 2 ** 32 + parseInt(lo!, 16),
    cleanShutdown: field('Database cluster state') === 'shut down',
    timeline: Number(field("Latest checkpoint's TimeLineID")),
  };
}

describe('parseControlFile', () => {
  const pg = withPostgres();

  it('reads the checkpoint location, timeline and state pg_controldata reports, running and shut down', async () => {
    const server = pg();
    const file = join(server.dataDir, 'global', 'pg_control');
    const running = parseControlFile(readFileSync(file));
    expect(running).toEqual(await controldata(server.dataDir));
    expect(running?.cleanShutdown).toBe(false);

    await server.stop();
    const stopped = parseControlFile(readFileSync(file));
    expect(stopped).toEqual(await controldata(server.dataDir));
    expect(stopped?.cleanShutdown).toBe(true);
    expect(stopped!.lsn).toBeGreaterThan(running!.lsn);
  });

  it('leaves a file of an unknown version, or too short, to pg_controldata', () => {
    const buf = Buffer.alloc(64);
    buf.writeUInt32LE(1800, 8);
    buf.writeUInt32LE(1, 16);
    buf.writeUInt32LE(1, 48);
    expect(parseControlFile(buf)).toBeNull();
    buf.writeUInt32LE(1300, 8);
    expect(parseControlFile(buf)).toEqual({ lsn: 0, cleanShutdown: true, timeline: 1 });
    expect(parseControlFile(buf.subarray(0, 40))).toBeNull();
  });
});
