import { PgdeckError } from '../kernel/errors.js';
import { haproxyConfig, type HaproxyBackend } from './haproxy-config.js';

/** A flag or config value `pgdeck failover haproxy-config` cannot use: the CLI exits 2 with it. */
const usage = (message: string): PgdeckError => new PgdeckError('invalid-argument', message);

export interface HaproxyConfigArgs {
  /** `NAME=[HOST:]PGPORT:APIPORT`, one per member. */
  readonly members: readonly string[];
  readonly writePort: unknown;
  readonly readPort: unknown;
  readonly bind: unknown;
}

/** The failover section of a loaded config, as far as haproxy needs it. */
export interface FailoverMemberConfig {
  readonly node: string;
  readonly pgHost: string;
  readonly pgPort: number;
  readonly apiUrl: string;
}

const memberSpec = /^([a-z0-9][a-z0-9_-]{0,62})=(?:([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):)?(\d{1,5}):(\d{1,5})$/i;
const hostSpec = /^([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\])$/;

/** `pgdeck failover haproxy-config`: the members from `--member` flags and the config's own failover member. */
export function renderHaproxyConfig(args: HaproxyConfigArgs, configured?: FailoverMemberConfig): string {
  const backends = args.members.map(parseMember);
  if (configured !== undefined) backends.push(fromConfig(configured));
  if (backends.length === 0)
    throw usage('--member: no members; pass --member NAME=[HOST:]PGPORT:APIPORT once per member');
  const names = backends.map((b) => b.name);
  const twice = names.find((name, i) => names.indexOf(name) !== i);
  if (twice !== undefined) throw usage(`--member: member "${twice}" is given twice`);
  const writePort = port(args.writePort, '--write-port');
  const readPort = port(args.readPort, '--read-port');
  if (writePort === readPort) throw usage('--read-port: must differ from --write-port');
  const bind = String(args.bind);
  if (!hostSpec.test(bind)) throw usage(`--bind: expected an address, got "${bind}"`);
  return haproxyConfig({ backends, writePort, readPort, bind });
}

function parseMember(spec: string): HaproxyBackend {
  const match = memberSpec.exec(spec);
  if (match === null)
    throw usage(`--member: expected NAME=[HOST:]PGPORT:APIPORT (pg0=10.0.0.5:5432:8008), got "${spec}"`);
  const [, name = '', host, pgPort = '', apiPort = ''] = match;
  return {
    name,
    ...(host === undefined ? {} : { host }),
    port: port(pgPort, '--member'),
    checkPort: port(apiPort, '--member'),
  };
}

function fromConfig(config: FailoverMemberConfig): HaproxyBackend {
  let apiPort: string;
  try {
    apiPort = new URL(config.apiUrl).port;
  } catch {
    throw usage('agents.failover.apiUrl: set it (http://host:port) so haproxy can check this member');
  }
  if (apiPort === '') throw usage('agents.failover.apiUrl: name the port (http://host:port)');
  return { name: config.node, host: config.pgHost, port: config.pgPort, checkPort: Number(apiPort) };
}

function port(value: unknown, flag: string): number {
  const text = String(value);
  const n = Number(text);
  if (!/^\d{1,5}$/.test(text) || n < 1 || n > 65535) throw usage(`${flag}: expected a port (1-65535), got "${text}"`);
  return n;
}
