import type { CitusSyncConfig, PodView, WorkerAddress } from './types.js';

/** The fields of a Pod the agent reads (the API server's JSON). */
export interface PodObject {
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly uid?: string;
    readonly deletionTimestamp?: string;
    readonly annotations?: Readonly<Record<string, string>>;
    readonly finalizers?: readonly string[];
  };
  readonly spec?: { readonly hostname?: string; readonly subdomain?: string };
  readonly status?: {
    readonly phase?: string;
    readonly podIP?: string;
    readonly conditions?: readonly { readonly type?: string; readonly status?: string }[];
  };
}

type AddressConfig = Pick<
  CitusSyncConfig,
  'addressing' | 'service' | 'clusterDomain' | 'addressAnnotation' | 'workerPort' | 'finalizer' | 'nodeAnnotation'
>;

/** `host:port`: the key of a worker, split again at the last colon (an IPv6 host keeps its own). */
export function keyOf(address: WorkerAddress): string {
  return `${address.host}:${address.port}`;
}

export function addressOfKey(key: string): WorkerAddress | null {
  const at = key.lastIndexOf(':');
  const port = Number(key.slice(at + 1));
  if (at <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) return null;
  return { host: key.slice(0, at), port };
}

/** The coordinator's candidate addresses from `host` (comma-separated, `host[:port]`); bad entries are left out. */
export function coordinatorCandidates(config: Pick<CitusSyncConfig, 'host' | 'port'>): WorkerAddress[] {
  return config.host
    .split(',')
    .map((h) => parseAddress(h, config.port))
    .filter((a): a is WorkerAddress => a !== null);
}

/** `host`, `host:port` or `[v6]:port` from an annotation; null when it is not one. */
export function parseAddress(text: string, defaultPort: number): WorkerAddress | null {
  const value = text.trim();
  const bracketed = /^\[([0-9a-fA-F:.]+)\](?::(\d{1,5}))?$/.exec(value);
  if (bracketed !== null) return checked(bracketed[1]!, bracketed[2], defaultPort);
  const plain = /^([^\s:/[\]]+)(?::(\d{1,5}))?$/.exec(value);
  if (plain !== null) return checked(plain[1]!, plain[2], defaultPort);
  return null;
}

function checked(host: string, port: string | undefined, defaultPort: number): WorkerAddress | null {
  const p = port === undefined ? defaultPort : Number(port);
  return p >= 1 && p <= 65535 ? { host, port: p } : null;
}

function addressOf(pod: PodObject, config: AddressConfig): { address: WorkerAddress | null; problem: string | null } {
  const none = (problem: string): { address: null; problem: string } => ({ address: null, problem });
  switch (config.addressing) {
    case 'ip': {
      const ip = pod.status?.podIP;
      return ip === undefined || ip === ''
        ? none('no pod IP yet')
        : { address: { host: ip, port: config.workerPort }, problem: null };
    }
    case 'annotation': {
      const text = pod.metadata?.annotations?.[config.addressAnnotation];
      if (text === undefined) return none(`no ${config.addressAnnotation} annotation`);
      const address = parseAddress(text, config.workerPort);
      return address === null
        ? none(`annotation ${config.addressAnnotation} is not host[:port]: ${JSON.stringify(text)}`)
        : { address, problem: null };
    }
    case 'dns': {
      const subdomain = pod.spec?.subdomain ?? config.service;
      if (subdomain === undefined) return none('no spec.subdomain and no worker service configured');
      const host = `${pod.spec?.hostname ?? pod.metadata?.name ?? ''}.${subdomain}.${pod.metadata?.namespace ?? ''}.svc.${config.clusterDomain}`;
      return { address: { host, port: config.workerPort }, problem: null };
    }
  }
}

/** What the agent reads of a pod: readiness, deletion, its finalizer and its address. */
export function podView(pod: PodObject, config: AddressConfig): PodView {
  const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  const { address, problem } = addressOf(pod, config);
  return {
    name: pod.metadata?.name ?? '',
    uid: pod.metadata?.uid ?? '',
    phase: pod.status?.phase ?? 'Unknown',
    ready: ready && pod.status?.phase === 'Running',
    deleting: pod.metadata?.deletionTimestamp !== undefined,
    held: pod.metadata?.finalizers?.includes(config.finalizer) ?? false,
    address,
    addressProblem: problem,
    recordedNode: recordedNode(pod.metadata?.annotations?.[config.nodeAnnotation]),
  };
}

function recordedNode(text: string | undefined): number | null {
  if (text === undefined || !/^[1-9][0-9]{0,9}$/.test(text)) return null;
  return Number(text);
}
