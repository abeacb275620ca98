import { spawn } from 'node:child_process';
import { chownSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { PgdeckError } from '../kernel/errors.js';
import { parseControlFile, type ControlFileHead } from './pg-control-file.js';
import { pgBinDir, pgRunAs, runPgTool, type RunAs } from './pg-tools.js';

export interface PostgresControlOptions {
  readonly name: string;
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** Extra postgresql.conf parameters (fsync, shared_buffers, ...). */
  readonly parameters: Readonly<Record<string, string>>;
  /** initdb's `--wal-segsize` in MB (PostgreSQL's default, 16, when unset). */
  readonly walSegmentSizeMb?: number;
  /** Called when the postmaster this daemon started exits. */
  readonly onExit: () => void;
}

/** How a postmaster started by this daemon exited (`child_process`'s exit event). */
interface PostmasterExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** What the data directory holds, read from its files. */
export type DataDirKind = 'empty' | 'primary' | 'replica';

export interface LocalProcess {
  readonly running: boolean;
  readonly pid: number | null;
  readonly dataDir: DataDirKind;
  /** ms since epoch the postmaster was last seen exiting (this daemon's view). */
  readonly exitedAt: number | null;
  /** The primary this server is configured to stream from (`name` in pgdeck.conf), if a replica. */
  readonly following: string | null;
  readonly syncStandbyNames: string;
}

const fixedParameters: Readonly<Record<string, string>> = {
  wal_level: 'replica',
  hot_standby: 'on',
  wal_log_hints: 'on',
  max_wal_senders: '10',
  max_replication_slots: '10',
  wal_keep_size: "'256MB'",
  wal_retrieve_retry_interval: "'100ms'",
  wal_receiver_status_interval: "'1s'",
  restart_after_crash: 'off',
  recovery_target_timeline: "'latest'",
};

const quote = (value: string): string => `'${value.replace(/'/g, "''")}'`;

/**
 * Supervises one PostgreSQL server: its files (pgdeck.conf, standby.signal), the postmaster
 * process (started detached in its own group so a daemon crash leaves it running and a restarted
 * daemon adopts it), and the tools initdb, pg_basebackup, pg_rewind and pg_controldata.
 */
export class PostgresControl {
  private runAs: RunAs | undefined;
  private exitedAt: number | null = null;
  /** How the postmaster this daemon started ends (null for one it adopted: its exit is not seen). */
  private exit: Promise<PostmasterExit> | null = null;
  private pid: number | null = null;
  private following: string | null = null;
  private ssn = '';

  constructor(private readonly o: PostgresControlOptions) {}

  async init(): Promise<void> {
    this.runAs = await pgRunAs();
    const parent = dirname(this.o.dataDir);
    mkdirSync(parent, { recursive: true });
    if (this.runAs !== undefined) chownSync(parent, this.runAs.uid, this.runAs.gid);
    this.pid = this.readPostmasterPid();
    const conf = this.readConf();
    this.following = conf.following;
    this.ssn = conf.ssn;
  }

  get logFile(): string {
    return join(dirname(this.o.dataDir), `${this.o.name}-postgres.log`);
  }

  local(): LocalProcess {
    if (this.pid !== null && !alive(this.pid)) {
      this.pid = null;
      this.exitedAt ??= Date.now();
    }
    if (this.pid === null) {
      const adopted = this.readPostmasterPid();
      if (adopted !== null) {
        this.pid = adopted;
        this.exit = null;
      }
    }
    return {
      running: this.pid !== null,
      pid: this.pid,
      dataDir: this.kind(),
      exitedAt: this.exitedAt,
      following: this.following,
      syncStandbyNames: this.ssn,
    };
  }

  /** initdb as the postgres user, trust on loopback (replication included). */
  async initdb(): Promise<void> {
    rmSync(this.o.dataDir, { recursive: true, force: true });
    await this.tool('initdb', [
      '-D',
      this.o.dataDir,
      '-U',
      this.o.user,
      '-A',
      'trust',
      '-E',
      'UTF8',
      '--no-sync',
      '--no-instructions',
      ...(this.o.walSegmentSizeMb === undefined ? [] : [`--wal-segsize=${this.o.walSegmentSizeMb}`]),
    ]);
    this.includeConf();
  }

  /** A fresh copy of `source` by pg_basebackup, set up to stream from it. */
  async clone(source: { name: string; host: string; port: number }): Promise<void> {
    rmSync(this.o.dataDir, { recursive: true, force: true });
    await this.tool('pg_basebackup', [
      '-h',
      source.host,
      '-p',
      String(source.port),
      '-U',
      this.o.user,
      '-D',
      this.o.dataDir,
      '-X',
      'stream',
      '-c',
      'fast',
      '--no-sync',
    ]);
    this.includeConf();
    this.writeConf({ follow: source, ssn: '' });
    this.markStandby();
  }

  /** pg_rewind onto `source`'s timeline; throws when impossible (the caller then re-clones). */
  async rewind(source: { name: string; host: string; port: number }): Promise<void> {
    await this.tool('pg_rewind', [
      '-D',
      this.o.dataDir,
      `--source-server=host=${source.host} port=${source.port} user=${this.o.user} dbname=postgres`,
    ]);
    this.standBy(source);
  }

  /** Makes a cleanly stopped server a standby of `source` without pg_rewind (its WAL ends before the fork). */
  standBy(source: { name: string; host: string; port: number }): void {
    this.includeConf();
    this.writeConf({ follow: source, ssn: '' });
    this.markStandby();
  }

  /** Starts the postmaster detached; resolves when it accepts connections or has exited. */
  async start(isReady: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    if (this.local().running) return;
    const log = openSync(this.logFile, 'a');
    const child = spawn(join(pgBinDir(), 'postgres'), ['-D', this.o.dataDir], {
      detached: true,
      stdio: ['ignore', log, log],
      env: { ...process.env, LC_ALL: 'C.UTF-8' },
      ...(this.runAs === undefined ? {} : { uid: this.runAs.uid, gid: this.runAs.gid }),
    });
    closeSync(log);
    child.unref();
    const pid = child.pid;
    if (pid === undefined) throw new PgdeckError('unavailable', 'could not start postgres');
    this.pid = pid;
    this.exitedAt = null;
    this.exit = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        if (this.pid === pid) {
          this.pid = null;
          this.exitedAt = Date.now();
        }
        resolve({ code, signal });
        this.o.onExit();
      }),
    );
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.pid !== pid)
        throw new PgdeckError('unavailable', `postgres exited during start-up; see ${this.logFile}`);
      if (await isReady().catch(() => false)) return;
      await delay(20);
    }
    throw new PgdeckError('timeout', `postgres did not accept connections within ${timeoutMs} ms; see ${this.logFile}`);
  }

  /** Stops the postmaster: `fast` (SIGINT: sessions ended, shutdown checkpoint) or `immediate` (SIGQUIT). */
  async stop(mode: 'fast' | 'immediate', timeoutMs: number): Promise<void> {
    const pid = this.local().pid;
    if (pid === null) return;
    signal(pid, mode === 'fast' ? 'SIGINT' : 'SIGQUIT');
    const deadline = Date.now() + timeoutMs;
    while (alive(pid)) {
      if (Date.now() > deadline) {
        if (mode === 'fast') return this.stop('immediate', timeoutMs);
        signal(-pid, 'SIGKILL');
      }
      await delay(5);
    }
    this.pid = null;
    this.exitedAt = Date.now();
  }

  /**
   * Whether the postmaster this daemon started and that has stopped ended by a signal or an error
   * (a kill -9, say) instead of its own clean exit; null when unknown (adopted, or not seen ending
   * within `waitMs`).
   */
  async killed(waitMs: number): Promise<boolean | null> {
    if (this.exit === null || this.local().running) return null;
    const ended = await Promise.race([this.exit, delay(waitMs).then(() => null)]);
    return ended === null ? null : ended.signal !== null || ended.code !== 0;
  }

  /** Ends recovery: the `promote` file plus SIGUSR1, as `pg_ctl promote` does, without the subprocess. */
  promote(): void {
    const pid = this.local().pid;
    if (pid === null) throw new PgdeckError('unavailable', 'cannot promote: postgres is not running');
    try {
      this.writeOwned(join(this.o.dataDir, 'promote'), '');
    } catch (error) {
      // The postmaster checks for the file on any SIGUSR1 (a walreceiver's, say) and removes it: gone before its chown, it was taken.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    signal(pid, 'SIGUSR1');
    this.following = null;
  }

  /** Points a replica at `source` (primary_conninfo is reloadable since PostgreSQL 13). */
  follow(source: { name: string; host: string; port: number }): void {
    this.writeConf({ follow: source, ssn: '' });
    this.reload();
  }

  /** `ANY 1 (...)` over the names; `*` stays unquoted (any standby), a name is quoted. Returns the value set. */
  setSyncStandbys(names: readonly string[]): string {
    const quoted = names.map((n) => (n === '*' ? n : `"${n}"`));
    const ssn = names.length === 0 ? '' : `ANY 1 (${quoted.join(', ')})`;
    this.writeConf({ follow: null, ssn });
    this.reload();
    return ssn;
  }

  /**
   * A fast shutdown that returns at its shutdown checkpoint: once pg_control says "shut down", no
   * session is left to write and that checkpoint record ends the WAL, while the postmaster may still
   * wait for its WAL senders and write its statistics (about a third of a fast shutdown). Returns the
   * checkpoint read after the postmaster exited when pg_control cannot be read here, or when it exited
   * without one (a crash: `cleanShutdown` false). The caller still waits for the exit (`stop`).
   */
  async shutDownToCheckpoint(timeoutMs: number): Promise<ControlFileHead> {
    const pid = this.local().pid;
    if (pid !== null) signal(pid, 'SIGINT');
    const deadline = Date.now() + timeoutMs;
    while (this.local().running && Date.now() < deadline) {
      const head = this.controlFile();
      if (head === null) break;
      if (head.cleanShutdown) return head;
      await delay(5);
    }
    await this.stop('fast', timeoutMs);
    return this.shutdownCheckpoint();
  }

  /** The LSN of the shutdown checkpoint of a cleanly stopped server: pg_control read directly, else pg_controldata. */
  async shutdownCheckpoint(): Promise<ControlFileHead> {
    const head = this.controlFile();
    if (head !== null) return head;
    const out = await this.tool('pg_controldata', ['-D', this.o.dataDir]);
    const field = (label: string): string => new RegExp(`^${label}:\\s*(.+)$`, 'm').exec(out)?.[1]?.trim() ?? '';
    return {
      lsn: parseLsn(field('Latest checkpoint location')),
      cleanShutdown: field('Database cluster state') === 'shut down',
      timeline: Number(field("Latest checkpoint's TimeLineID")),
    };
  }

  private controlFile(): ControlFileHead | null {
    try {
      return parseControlFile(readFileSync(join(this.o.dataDir, 'global', 'pg_control')));
    } catch {
      return null;
    }
  }

  removeData(): void {
    rmSync(this.o.dataDir, { recursive: true, force: true });
  }

  private reload(): void {
    const pid = this.local().pid;
    if (pid !== null) signal(pid, 'SIGHUP');
  }

  private kind(): DataDirKind {
    if (!existsSync(join(this.o.dataDir, 'PG_VERSION'))) return 'empty';
    return existsSync(join(this.o.dataDir, 'standby.signal')) ? 'replica' : 'primary';
  }

  private markStandby(): void {
    this.writeOwned(join(this.o.dataDir, 'standby.signal'), '');
  }

  private includeConf(): void {
    const main = join(this.o.dataDir, 'postgresql.conf');
    const text = readFileSync(main, 'utf8');
    if (!text.includes("include_if_exists = 'pgdeck.conf'"))
      writeFileSync(main, `${text}\ninclude_if_exists = 'pgdeck.conf'\n`);
    rmSync(join(this.o.dataDir, 'postgresql.auto.conf'), { force: true });
    this.writeOwned(
      join(this.o.dataDir, 'postgresql.auto.conf'),
      '# managed by pgdeck failover: ALTER SYSTEM values below\n',
    );
    this.writeConf({ follow: null, ssn: '' });
  }

  /** pgdeck.conf: everything the daemon decides, rewritten whole. `follow: null` keeps the current source. */
  private writeConf(change: { follow: { name: string; host: string; port: number } | null; ssn: string }): void {
    if (change.follow !== null) this.following = change.follow.name;
    this.ssn = change.ssn;
    const conninfo =
      change.follow === null
        ? this.readConf().conninfo
        : `host=${change.follow.host} port=${change.follow.port} user=${this.o.user} application_name=${this.o.name}`;
    const params: Record<string, string> = {
      ...fixedParameters,
      ...this.o.parameters,
      listen_addresses: quote(this.o.host),
      port: String(this.o.port),
      unix_socket_directories: quote(dirname(this.o.dataDir)),
      cluster_name: quote(this.o.name),
      synchronous_standby_names: quote(this.ssn),
      ...(conninfo === '' ? {} : { primary_conninfo: quote(conninfo) }),
    };
    const lines = [
      `# managed by pgdeck failover (${this.o.name}); following=${this.following ?? ''}`,
      ...Object.entries(params).map(([k, v]) => `${k} = ${v}`),
    ];
    this.writeOwned(join(this.o.dataDir, 'pgdeck.conf'), `${lines.join('\n')}\n`);
  }

  private readConf(): { following: string | null; ssn: string; conninfo: string } {
    const path = join(this.o.dataDir, 'pgdeck.conf');
    if (!existsSync(path)) return { following: null, ssn: '', conninfo: '' };
    const text = readFileSync(path, 'utf8');
    const following = /following=(\S*)/.exec(text)?.[1] ?? '';
    const ssn = /^synchronous_standby_names = '(.*)'$/m.exec(text)?.[1]?.replace(/''/g, "'") ?? '';
    const conninfo = /^primary_conninfo = '(.*)'$/m.exec(text)?.[1]?.replace(/''/g, "'") ?? '';
    return { following: following === '' ? null : following, ssn, conninfo };
  }

  private writeOwned(path: string, text: string): void {
    writeFileSync(path, text, { mode: 0o600 });
    if (this.runAs !== undefined) chownSync(path, this.runAs.uid, this.runAs.gid);
  }

  private readPostmasterPid(): number | null {
    const path = join(this.o.dataDir, 'postmaster.pid');
    if (!existsSync(path)) return null;
    const pid = Number(readFileSync(path, 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 && alive(pid) ? pid : null;
  }

  private tool(name: string, args: readonly string[]): Promise<string> {
    return runPgTool(name, args, this.runAs, dirname(this.o.dataDir));
  }
}

export function parseLsn(text: string): number {
  const match = /^([0-9A-F]+)\/([0-9A-F]+)$/i.exec(text);
  if (match === null) throw new PgdeckError('internal', `not an LSN: ${text}`);
  return parseInt(match[1]!, 16) * 2 ** 32 + parseInt(match[2]!, 16);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    return;
  }
}
