import { Redis } from 'ioredis';
import { backoffDelay, type BackoffPolicy } from '../kernel/backoff.js';
import type { Clock } from '../kernel/clock.js';
import { PgdeckError, type ErrorKind } from '../kernel/errors.js';
import { redisError, type RedisCallContext } from './redis-errors.js';

export interface RedisTarget {
  readonly host: string;
  readonly port: number;
  /** ACL user; the `default` user when absent. */
  readonly username?: string;
  readonly password?: string;
  readonly db?: number;
}

/** The last thing that went wrong on a connection, already safe to show (no secrets). */
export interface RedisFault {
  readonly kind: ErrorKind;
  readonly message: string;
  /** ms since epoch */
  readonly at: number;
}

/** One connection's state as data: observe reports it instead of catching a throw. */
export interface RedisLinkState {
  readonly connected: boolean;
  /** Kept after a reconnect, so a flap stays visible; `connected` says whether it still applies. */
  readonly lastError: RedisFault | null;
  /** Reconnect attempts since the connection was last ready. */
  readonly attempts: number;
  /** Delay before the reconnect attempt now scheduled, null when none is. */
  readonly retryDelayMs: number | null;
  /** ms since epoch of the last change of `connected`. */
  readonly since: number;
}

export interface RedisLinkOptions {
  readonly target: RedisTarget;
  /** Shown in CLIENT LIST as `<name>`. */
  readonly name: string;
  readonly backoff: BackoffPolicy;
  readonly random: () => number;
  readonly clock: Clock;
  readonly connectTimeoutMs: number;
  /** Client-side deadline per command; none for the blocking connection, which has its own watchdog. */
  readonly commandTimeoutMs?: number;
  readonly onChange: () => void;
}

/** How long a cut connection may wait for the server's FIN before its socket is destroyed. */
const DISCONNECT_TIMEOUT_MS = 200;
/** Beyond that, how long `drop` waits for the close event before it gives up waiting. */
const CLOSE_SLACK_MS = 50;

/**
 * One ioredis connection that never queues: a command sent while it is down fails at once (as
 * `unavailable`), a command in flight when it drops fails instead of being resent, and it reconnects
 * on its own with the capped, jittered backoff of the kernel.
 */
export class RedisLink {
  readonly client: Redis;
  readonly address: string;
  private connected = false;
  private lastError: RedisFault | null = null;
  private attempts = 0;
  private retryDelayMs: number | null = null;
  private since: number;
  private readonly secrets: readonly string[];

  constructor(private readonly options: RedisLinkOptions) {
    const { target } = options;
    this.address = `${target.host}:${target.port}`;
    this.secrets = target.password === undefined ? [] : [target.password];
    this.since = options.clock.now();
    this.client = new Redis({
      host: target.host,
      port: target.port,
      ...(target.username === undefined ? {} : { username: target.username }),
      ...(target.password === undefined ? {} : { password: target.password }),
      db: target.db ?? 0,
      connectionName: options.name,
      replyMapping: 'legacy',
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      connectTimeout: options.connectTimeoutMs,
      disconnectTimeout: DISCONNECT_TIMEOUT_MS,
      ...(options.commandTimeoutMs === undefined ? {} : { commandTimeout: options.commandTimeoutMs }),
      retryStrategy: (times) => backoffDelay(options.backoff, times, options.random),
    });
    this.client.on('ready', () => this.mark(true));
    this.client.on('close', () => this.mark(false));
    this.client.on('reconnecting', (delay: number) => {
      this.attempts++;
      this.retryDelayMs = delay;
      options.onChange();
    });
    this.client.on('error', (error: unknown) => this.record(redisError(error, this.context('connect'))));
  }

  state(): RedisLinkState {
    return {
      connected: this.connected,
      lastError: this.lastError,
      attempts: this.attempts,
      retryDelayMs: this.retryDelayMs,
      since: this.since,
    };
  }

  context(command: string, stream?: string, group?: string): RedisCallContext {
    return {
      address: this.address,
      command,
      secrets: this.secrets,
      ...(stream === undefined ? {} : { stream }),
      ...(group === undefined ? {} : { group }),
    };
  }

  /**
   * The PgdeckError for a failed call. A call that failed because the connection is down reports why
   * it is down (wrong password, refused) when that is known, which says more than "not connected".
   */
  failure(error: unknown, command: string, stream?: string, group?: string): PgdeckError {
    const failed = redisError(error, this.context(command, stream, group));
    if (failed.kind === 'unavailable') return this.downError(failed);
    if (failed.kind === 'timeout') this.record(failed);
    return failed;
  }

  /** Why the connection is down, or `fallback` when it is up or nothing went wrong yet. */
  downError(fallback?: PgdeckError): PgdeckError {
    if (!this.connected && this.lastError !== null) return new PgdeckError(this.lastError.kind, this.lastError.message);
    return fallback ?? new PgdeckError('unavailable', `not connected to redis at ${this.address}; reconnecting`);
  }

  /** Resolves true once the connection is ready, false after `timeoutMs` or when `signal` aborts. */
  waitReady(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (this.connected) return Promise.resolve(true);
    if (signal?.aborted === true) return Promise.resolve(false);
    return new Promise((resolve) => {
      const finish = (ready: boolean): void => {
        clearTimeout(timer);
        this.client.off('ready', onReady);
        signal?.removeEventListener('abort', onAbort);
        resolve(ready);
      };
      const onReady = (): void => finish(true);
      const onAbort = (): void => finish(false);
      const timer = setTimeout(() => finish(this.connected), timeoutMs);
      this.client.on('ready', onReady);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * Cuts the connection (failing what is in flight on it) and lets it reconnect; it counts as down at
   * once. Resolves when the socket has closed, which Redis does only after it freed the client: from
   * then on no blocked command of this connection can take entries any more.
   */
  drop(): Promise<void> {
    const closed = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, DISCONNECT_TIMEOUT_MS + CLOSE_SLACK_MS);
      this.client.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.client.disconnect(true);
    this.mark(false);
    return closed;
  }

  close(): void {
    this.client.disconnect(false);
    this.retryDelayMs = null;
    this.mark(false);
  }

  /** A connection error, or a call timing out on a connection that looks up (a frozen server). */
  private record(error: PgdeckError): void {
    this.lastError = { kind: error.kind, message: error.message, at: this.options.clock.now() };
    this.options.onChange();
  }

  private mark(connected: boolean): void {
    if (connected) {
      this.attempts = 0;
      this.retryDelayMs = null;
    }
    if (connected === this.connected) return;
    this.connected = connected;
    this.since = this.options.clock.now();
    this.options.onChange();
  }
}
