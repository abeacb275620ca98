/** A PostgreSQL member behind haproxy, health-checked over its failover agent's HTTP API. */
export interface HaproxyBackend {
  readonly name: string;
  /** Where PostgreSQL listens (default 127.0.0.1). */
  readonly host?: string;
  readonly port: number;
  /** The failover agent's API port on the same host: `/primary` and `/replica` answer there. */
  readonly checkPort: number;
}

export interface HaproxyLayout {
  readonly backends: readonly HaproxyBackend[];
  /** Routes to the member whose `/primary` answers 200. */
  readonly writePort: number;
  /** Round-robin over the members whose `/replica` answers 200. */
  readonly readPort: number;
  /** The address both ports bind (default 127.0.0.1). */
  readonly bind?: string;
  /** Milliseconds between health checks (default 250): a new primary takes writes within about two of them. */
  readonly checkIntervalMs?: number;
}

const LOOPBACK = '127.0.0.1';
const DEFAULT_CHECK_INTERVAL_MS = 250;

/**
 * The HAProxy configuration Patroni's documentation gives, for pgdeck's failover agent: a write port
 * to `/primary`, a read port to `/replica`; members marked down lose their sessions at once. Pure.
 */
export function haproxyConfig(layout: HaproxyLayout): string {
  const bind = layout.bind ?? LOOPBACK;
  const servers = layout.backends
    .map((b) => `  server ${b.name} ${b.host ?? LOOPBACK}:${b.port} check port ${b.checkPort}`)
    .join('\n');
  return [
    'global',
    '  maxconn 400',
    'defaults',
    '  mode tcp',
    '  timeout connect 2s',
    '  timeout client 30m',
    '  timeout server 30m',
    '  timeout check 1s',
    `  default-server inter ${layout.checkIntervalMs ?? DEFAULT_CHECK_INTERVAL_MS}ms fall 2 rise 1 on-marked-down shutdown-sessions`,
    'listen write',
    `  bind ${bind}:${layout.writePort}`,
    '  option httpchk GET /primary',
    '  http-check expect status 200',
    servers,
    'listen read',
    `  bind ${bind}:${layout.readPort}`,
    '  balance roundrobin',
    '  option httpchk GET /replica',
    '  http-check expect status 200',
    servers,
    '',
  ].join('\n');
}
