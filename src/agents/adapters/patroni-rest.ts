import { errorMessage, PgdeckError } from '../kernel/errors.js';

/** One member as Patroni's `GET /cluster` lists it. */
export interface PatroniMemberInfo {
  readonly name: string;
  /** `leader`, `replica`, `sync_standby`, `standby_leader`. */
  readonly role: string;
  /** `running`, `streaming`, `stopped`, ... */
  readonly state: string;
  readonly host?: string;
  readonly port?: number;
  readonly apiUrl?: string;
  /** Replication lag in bytes, as Patroni reports it (null when unknown). */
  readonly lagBytes: number | null;
  readonly timeline?: number;
}

export interface PatroniClusterInfo {
  readonly members: readonly PatroniMemberInfo[];
  readonly paused: boolean;
}

interface RawMember {
  name?: string;
  role?: string;
  state?: string;
  host?: string;
  port?: number;
  api_url?: string;
  lag?: number | string;
  timeline?: number;
}

/**
 * Patroni's REST API on one member (`http://host:8008`): the cluster view, switchover, failover and
 * restart. Patroni refuses what it cannot do with a status and a sentence; that sentence becomes a
 * `precondition` error (503 from an unreachable member is `unavailable`).
 */
export class PatroniRest {
  constructor(
    readonly baseUrl: string,
    private readonly timeoutMs = 10_000,
  ) {}

  async cluster(signal?: AbortSignal): Promise<PatroniClusterInfo> {
    const body = (await this.call('GET', '/cluster', undefined, signal)) as { members?: RawMember[]; pause?: boolean };
    return {
      paused: body.pause === true,
      members: (body.members ?? []).map((m) => ({
        name: m.name ?? '',
        role: m.role ?? 'unknown',
        state: m.state ?? 'unknown',
        ...(m.host === undefined ? {} : { host: m.host }),
        ...(m.port === undefined ? {} : { port: m.port }),
        ...(m.api_url === undefined ? {} : { apiUrl: m.api_url }),
        lagBytes: typeof m.lag === 'number' ? m.lag : null,
        ...(m.timeline === undefined ? {} : { timeline: m.timeline }),
      })),
    };
  }

  /** A planned switchover from `leader` (to `candidate`, or the member Patroni picks). */
  async switchover(leader: string, candidate?: string, signal?: AbortSignal): Promise<string> {
    return String(
      await this.call('POST', '/switchover', { leader, ...(candidate === undefined ? {} : { candidate }) }, signal),
    );
  }

  /** A failover to `candidate` (Patroni allows it with or without a healthy leader). */
  async failover(candidate: string, signal?: AbortSignal): Promise<string> {
    return String(await this.call('POST', '/failover', { candidate }, signal));
  }

  /** Restarts this member's PostgreSQL. */
  async restart(signal?: AbortSignal): Promise<string> {
    return String(await this.call('POST', '/restart', {}, signal));
  }

  private async call(method: 'GET' | 'POST', path: string, body: unknown, signal?: AbortSignal): Promise<unknown> {
    const deadline = AbortSignal.timeout(this.timeoutMs);
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: signal === undefined ? deadline : AbortSignal.any([signal, deadline]),
      });
    } catch (error) {
      throw new PgdeckError(
        'unavailable',
        `Patroni at ${this.baseUrl} did not answer ${method} ${path}: ${errorMessage(error)}`,
        {
          cause: error,
        },
      );
    }
    const text = await response.text();
    if (!response.ok)
      throw new PgdeckError(
        response.status === 503 ? 'unavailable' : 'precondition',
        `Patroni refused ${method} ${path} (${response.status}): ${text.trim().slice(0, 300)}`,
      );
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text.trim();
    }
  }
}
