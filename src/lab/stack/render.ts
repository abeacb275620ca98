import { formatTable } from '../../cli/format-table.js';
import { logTail } from '../procs/daemon.js';
import type { ChaosReport } from './chaos.js';
import { daemonUrls, type ComponentState, type LabState } from './state.js';

/** The address a person wants first for each component. */
function mainEndpoint(c: ComponentState): string {
  const e = c.endpoints;
  return e.write ?? e.url ?? e.coordinator ?? e.server ?? Object.values(e)[0] ?? '';
}

export function renderStatus(state: LabState): string {
  const rows = state.components.map((c) => [c.name, c.phase, mainEndpoint(c), c.detail]);
  return `${formatTable(['COMPONENT', 'PHASE', 'ENDPOINT', 'DETAIL'], rows)}\n`;
}

/** One progress line of `lab up` on a terminal. */
export function progressLine(c: ComponentState, elapsedMs: number): string {
  const at = `${(elapsedMs / 1000).toFixed(1)} s`;
  const detail = [mainEndpoint(c), c.detail].filter((x) => x !== '').join('  ');
  return `${at.padStart(7)}  ${c.name.padEnd(9)} ${c.phase.padEnd(9)} ${detail}`.trimEnd();
}

const quote = (value: string): string => `'${value.replaceAll("'", "'\\''")}'`;

/** Shell exports, so `psql "$PGDECK_WRITE_URL"` and `kubectl` work at once after `eval "$(pgdeck lab env)"`. */
export function renderEnv(state: LabState): string {
  const by = (name: string): ComponentState | undefined => state.components.find((c) => c.name === name);
  const daemons = daemonUrls(state);
  const redis = by('redis')?.endpoints.url;
  const vars: [string, string | undefined][] = [
    ['PGDECK_WRITE_URL', by('haproxy')?.endpoints.write],
    ['PGDECK_READ_URL', by('haproxy')?.endpoints.read],
    ['PGDECK_ETCD', by('etcd')?.endpoints.url],
    ['PGDECK_REDIS_URL', redis],
    // what `pgdeck autoscaler send` reads (the replaced tool's names), so a scale event reaches the lab's stream
    ['REDIS_HOST', redis === undefined ? undefined : new URL(redis).hostname],
    ['REDIS_PORT', redis === undefined ? undefined : new URL(redis).port],
    ['PGDECK_CITUS_URL', by('citus')?.endpoints.coordinator],
    ['KUBECONFIG', by('kube')?.endpoints.kubeconfig],
    ['PGDECK_ATTACH', daemons.length > 0 ? daemons.join(' ') : undefined],
    ['PGDECK_TOKEN', state.token === '' ? undefined : state.token],
  ];
  return vars
    .filter((v): v is [string, string] => v[1] !== undefined)
    .map(([k, v]) => `export ${k}=${quote(v)}\n`)
    .join('');
}

/** The last lines of each log of one component (or of all). */
export function renderLogs(state: LabState, component: string | undefined, lines: number): string {
  const parts = state.components.filter((c) => component === undefined || c.name === component);
  return parts
    .flatMap((c) =>
      Object.entries(c.logs)
        .filter(([name]) => name !== 'dir')
        .map(([name, file]) => `==> ${c.name}/${name} (${file}) <==\n${logTail(file, lines)}\n`),
    )
    .join('\n');
}

const ms = (v: number | null): string => (v === null ? 'not within the timeout' : `${(v / 1000).toFixed(2)} s`);

export function renderChaos(r: ChaosReport): string {
  const failover =
    r.failover === null ? 'none' : `${r.failover.from ?? '-'} -> ${r.failover.to ?? '-'} (${r.failover.signal})`;
  const rows = [
    ['action', `${r.action} ${r.target}`],
    ['what', r.detail],
    ['writes back after', ms(r.recoveryMs)],
    ['longest write outage', ms(r.outageMs)],
    ['healthy again after', ms(r.healedMs)],
    ['writes acked / failed / lost', `${r.writesAcked} / ${r.writesFailed} / ${r.writesLost}`],
    ['failover recorded', failover],
  ];
  return `${formatTable(['', ''], rows).split('\n').slice(1).join('\n')}\n`;
}
