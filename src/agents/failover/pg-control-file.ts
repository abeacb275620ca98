/**
 * The head of `global/pg_control` (ControlFileData), read without spawning pg_controldata: on a
 * switchover the shutdown checkpoint's location is on the critical path of the write outage. The
 * fields read here have kept their offsets since PostgreSQL 9.x: system_identifier (8 bytes),
 * pg_control_version, catalog_version_no, state (4 each), padding, time (8), checkPoint (8), then
 * checkPointCopy: redo (8), ThisTimeLineID (4). Little-endian, as the server writes it on x86 and arm64.
 */
export interface ControlFileHead {
  readonly lsn: number;
  readonly cleanShutdown: boolean;
  readonly timeline: number;
}

/** pg_control_version of PostgreSQL 12 (1201) up to 17 (1700); others are left to pg_controldata. */
const knownVersions: readonly number[] = [1201, 1300, 1700];
/** DBState: DB_SHUTDOWNED (a primary's clean shutdown). */
const shutDown = 1;
/** DBState values run from DB_STARTUP (0) to DB_IN_PRODUCTION (6). */
const lastState = 6;
const headBytes = 52;

/** The checkpoint location, timeline and clean-shutdown flag, or null when the file is not one this reads. */
export function parseControlFile(buf: Buffer): ControlFileHead | null {
  if (buf.length < headBytes) return null;
  const version = buf.readUInt32LE(8);
  const state = buf.readUInt32LE(16);
  const timeline = buf.readUInt32LE(48);
  if (!knownVersions.includes(version) || state > lastState || timeline < 1) return null;
  return { lsn: Number(buf.readBigUInt64LE(32)), cleanShutdown: state === shutDown, timeline };
}
