import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PgdeckError } from '../kernel/errors.js';

/** The user a PostgreSQL process runs as (root cannot run it). */
export interface RunAs {
  readonly uid: number;
  readonly gid: number;
}

const run = promisify(execFile);

/**
 * Where PostgreSQL's server binaries are: `PGDECK_PG_BIN`, else the newest Debian
 * /usr/lib/postgresql/N/bin, else PATH (nix puts them there).
 */
export function pgBinDir(): string {
  const configured = process.env.PGDECK_PG_BIN;
  if (configured !== undefined && configured !== '') return configured;
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) if (existsSync(join(debian, v, 'bin', 'postgres'))) return join(debian, v, 'bin');
  }
  for (const dir of (process.env.PATH ?? '').split(':')) if (dir !== '' && existsSync(join(dir, 'initdb'))) return dir;
  throw new PgdeckError('unavailable', 'PostgreSQL server binaries not found: run scripts/setup or set PGDECK_PG_BIN');
}

/** PostgreSQL refuses to run as root: as root, run it as the `postgres` system user. */
export async function pgRunAs(): Promise<RunAs | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const [{ stdout: uid }, { stdout: gid }] = await Promise.all([
      run('id', ['-u', 'postgres']),
      run('id', ['-g', 'postgres']),
    ]);
    return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
  } catch {
    throw new PgdeckError(
      'unavailable',
      'running as root needs a "postgres" system user to run PostgreSQL (scripts/setup creates it)',
    );
  }
}

/** Runs one PostgreSQL tool (initdb, pg_basebackup, pg_ctl, ...) to completion as the right user. */
export async function runPgTool(
  tool: string,
  args: readonly string[],
  runAs: RunAs | undefined,
  cwd?: string,
): Promise<string> {
  try {
    const { stdout } = await run(join(pgBinDir(), tool), [...args], {
      ...(runAs === undefined ? {} : { uid: runAs.uid, gid: runAs.gid }),
      ...(cwd === undefined ? {} : { cwd }),
      env: { ...process.env, LC_ALL: 'C.UTF-8', ...(runAs === undefined ? {} : { HOME: '/tmp' }) },
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new PgdeckError(
      'unavailable',
      `${tool} failed: ${stderr.trim().split('\n').slice(-3).join(' ') || String(error)}`,
      { cause: error },
    );
  }
}
