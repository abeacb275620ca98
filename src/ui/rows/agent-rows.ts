import type { AgentSnapshot } from '../../agents/kernel/snapshot.js';

export interface AgentRow {
  readonly key: string;
  readonly name: string;
  readonly source: string;
  readonly health: string;
  readonly ready: string;
  readonly summary: string;
  readonly tone: 'ok' | 'warn' | 'bad' | 'stale';
}

/** One row per agent: where it runs, how it is, what it last decided. */
export function agentRows(agents: readonly AgentSnapshot[]): AgentRow[] {
  return agents.map((a) => {
    const stale = a.source.stale || !a.source.connected;
    const source = a.source.mode === 'attached' ? `attached${stale ? ' (STALE)' : ''}` : 'in-process';
    const problem =
      a.health.lastError === undefined ? '' : ` [${a.health.lastError.kind}: ${a.health.lastError.message}]`;
    return {
      key: `${a.agent}@${a.source.url ?? 'local'}`,
      name: a.agent,
      source,
      health: a.health.status,
      ready: a.health.ready ? 'yes' : 'no',
      summary: `${a.summary}${problem}`,
      tone: stale
        ? 'stale'
        : a.health.status === 'ok'
          ? 'ok'
          : a.health.status === 'failing' || a.health.status === 'stopped'
            ? 'bad'
            : 'warn',
    };
  });
}
