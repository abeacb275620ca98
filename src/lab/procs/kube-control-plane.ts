import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PgdeckError } from '../../agents/kernel/errors.js';
import type { Logger } from '../../agents/kernel/logger.js';
import { startDaemon, waitUntil, type Daemon } from './daemon.js';
import { auditArgs } from './kube-audit.js';
import { kubeBinaries, type KubeBinary } from './kube-binaries.js';
import {
  countItems,
  countReadyNodes,
  createFakeNode,
  kubeApi,
  kubeconfigYaml,
  mintServiceAccountKubeconfig,
} from './kube-api.js';
import { createKubePki, FRONT_PROXY_CLIENT, type KubeClientUser } from './kube-certs.js';
import { KWOK_NODE_ANNOTATION, KWOK_STAGES_YAML } from './kwok-stages.js';
import { freePort } from './ports.js';
import { createServiceDir, subdir, type ServiceDir } from './service-dir.js';

export interface KubeControlPlaneOptions {
  /** Fake kwok nodes to create (default 3). */
  readonly nodes?: number;
  /** Aborting it stops a start in progress (everything started so far is stopped). */
  readonly signal?: AbortSignal;
  readonly logger?: Logger;
  /** Per component (default 120 s: a loaded 2-core machine needs tens of seconds). */
  readonly startTimeoutMs?: number;
  /** An audit policy for the API server (see kube-audit.ts); its log is `auditLogPath(dir)`. */
  readonly auditPolicyYaml?: string;
}

/** A running etcd + kube-apiserver + controller-manager + scheduler + kwok, all on loopback. */
export interface KubeControlPlane {
  /** The temp dir holding PKI, kubeconfigs, data and one log file per process. */
  readonly dir: string;
  readonly server: string;
  readonly etcdEndpoint: string;
  /** An admin (system:masters) kubeconfig, as a file and as text. */
  readonly kubeconfigPath: string;
  readonly kubeconfigYaml: string;
  readonly nodeNames: readonly string[];
  /** Wall time from the call to everything Ready. */
  readonly startMs: number;
  /** A kubeconfig with a bound token (TokenRequest API) for an existing ServiceAccount. */
  mintServiceAccountKubeconfig(namespace: string, serviceAccount: string, expirationSeconds?: number): Promise<string>;
  /** Stops only the kube-apiserver (SIGKILL for a crash); etcd, the controllers and kwok keep running. */
  stopApiServer(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Starts the kube-apiserver again on its port, as before; resolves once /readyz answers. */
  startApiServer(): Promise<void>;
  /** Compacts etcd's history up to now (as the API server does every 5 minutes); returns the revision. */
  compactEtcd(): Promise<number>;
  /** SIGTERM each process (SIGKILL after a grace period), then remove the dir. */
  stop(): Promise<void>;
}

const SERVICE_CIDR = '10.96.0.0/24';
const SERVICE_IP = '10.96.0.1';

export async function startKubeControlPlane(options: KubeControlPlaneOptions = {}): Promise<KubeControlPlane> {
  const started = performance.now();
  const bin = kubeBinaries();
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(bin, options, started);
    } catch (error) {
      // a free port can be taken by another process before ours binds it: start again on new ports
      const portTaken =
        error instanceof PgdeckError &&
        error.kind === 'unavailable' &&
        error.message.includes('address already in use');
      if (!portTaken || attempt === 3) throw error;
      options.logger?.warn('kube control plane: a port was taken meanwhile, starting again', { attempt });
    }
  }
}

async function startOnce(
  bin: Readonly<Record<KubeBinary, string>>,
  options: KubeControlPlaneOptions,
  started: number,
): Promise<KubeControlPlane> {
  const dir = createServiceDir('kube');
  const running: Running[] = [];
  const stop = async (): Promise<void> => {
    const [etcd, apiserver, ...rest] = running.splice(0).map((r) => r.daemon);
    await Promise.all(rest.map((d) => d.stop()));
    await apiserver?.stop();
    await etcd?.stop();
    dir.remove();
  };
  // ends every wait still polling once one step failed, as well as on the caller's abort
  const failed = new AbortController();
  const signal = options.signal === undefined ? failed.signal : AbortSignal.any([options.signal, failed.signal]);
  try {
    const plane = await boot(bin, dir, running, { ...options, signal });
    return { ...plane, startMs: Math.round(performance.now() - started), stop };
  } catch (error) {
    failed.abort();
    await stop();
    throw error;
  }
}

type Booted = Omit<KubeControlPlane, 'startMs' | 'stop'>;

/** Starts each process in order and waits for it; `running` collects them for stop(). */
async function boot(
  bin: Readonly<Record<KubeBinary, string>>,
  dir: ServiceDir,
  running: Running[],
  options: KubeControlPlaneOptions,
): Promise<Booted> {
  const phase = timer(options.logger);
  const [etcdPort, peerPort, apiPort, kcmPort, schedulerPort] = await Promise.all(
    Array.from({ length: 5 }, () => freePort()),
  );
  const start = (name: string, command: string, args: readonly string[]): Running => {
    const started = { name, daemon: startDaemon({ name, command, args, dir }) };
    running.push(started);
    return started;
  };
  const ready = (what: string, probe: () => Promise<boolean>, logOf: Running): Promise<void> =>
    waitUntil(what, probe, options.startTimeoutMs ?? 120_000, {
      logFile: logOf.daemon.logFile,
      processes: running,
      intervalMs: 100,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });

  const etcdEndpoint = `http://127.0.0.1:${etcdPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const etcd = start('etcd', bin.etcd, [
    '--name',
    'lab',
    '--data-dir',
    join(dir.path, 'etcd'),
    '--unsafe-no-fsync',
    '--log-level',
    'warn',
    '--listen-client-urls',
    etcdEndpoint,
    '--advertise-client-urls',
    etcdEndpoint,
    '--listen-peer-urls',
    peer,
    '--initial-advertise-peer-urls',
    peer,
    '--initial-cluster',
    `lab=${peer}`,
  ]);
  const pki = await createKubePki(subdir(dir, 'pki'), SERVICE_IP);
  await ready('etcd', () => httpOk(`${etcdEndpoint}/health`), etcd);
  phase('etcd ready');

  const server = `https://127.0.0.1:${apiPort}`;
  const apiserverArgs = [
    '--etcd-servers',
    etcdEndpoint,
    '--bind-address',
    '127.0.0.1',
    '--advertise-address',
    '127.0.0.1',
    '--secure-port',
    String(apiPort),
    '--cert-dir',
    join(dir.path, 'pki'),
    '--tls-cert-file',
    pki.apiserver.cert,
    '--tls-private-key-file',
    pki.apiserver.key,
    '--client-ca-file',
    pki.ca.cert,
    '--service-account-issuer',
    'https://kubernetes.default.svc.cluster.local',
    '--service-account-key-file',
    pki.serviceAccountPub,
    '--service-account-signing-key-file',
    pki.serviceAccountKey,
    '--service-cluster-ip-range',
    SERVICE_CIDR,
    '--authorization-mode',
    'Node,RBAC',
    '--allow-privileged',
    // a loopback address is not a valid Endpoints address: keep the `kubernetes` Service without endpoints
    '--endpoint-reconciler-type',
    'none',
    // the aggregation layer's front proxy, as kubeadm sets it up (components read it for delegated authn)
    '--requestheader-client-ca-file',
    pki.ca.cert,
    '--requestheader-allowed-names',
    FRONT_PROXY_CLIENT,
    '--requestheader-username-headers',
    'X-Remote-User',
    '--requestheader-group-headers',
    'X-Remote-Group',
    '--requestheader-extra-headers-prefix',
    'X-Remote-Extra-',
    '--proxy-client-cert-file',
    pki.clients['front-proxy'].cert,
    '--proxy-client-key-file',
    pki.clients['front-proxy'].key,
    // PodTemplates bypass the watch cache, so a watch from a resourceVersion that compactEtcd() removed
    // meets 410 Gone at once, as clients of long-lived clusters do (other resources are served as usual)
    '--watch-cache-sizes',
    'podtemplates#0',
    '--profiling=false',
    ...auditArgs(dir.path, options.auditPolicyYaml),
    '--v',
    '1',
  ];
  const apiserver = start('kube-apiserver', bin['kube-apiserver'], apiserverArgs);
  const api = kubeApi(server, pki.ca.cert, pki.clients.admin);
  const apiReady = async (): Promise<boolean> => (await api.call('GET', '/readyz', undefined, 2000)).status === 200;
  await ready('kube-apiserver /readyz', apiReady, apiserver);
  phase('kube-apiserver ready');

  const kubeconfig = (user: KubeClientUser): string => {
    const path = join(dir.path, `${user}.kubeconfig`);
    writeFileSync(
      path,
      kubeconfigYaml(server, pki.ca.cert, user, {
        clientCert: pki.clients[user].cert,
        clientKey: pki.clients[user].key,
      }),
      { mode: 0o600 },
    );
    return path;
  };
  const kcmConfig = kubeconfig('controller-manager');
  const kcm = start('kube-controller-manager', bin['kube-controller-manager'], [
    '--kubeconfig',
    kcmConfig,
    '--authentication-kubeconfig',
    kcmConfig,
    '--authorization-kubeconfig',
    kcmConfig,
    '--bind-address',
    '127.0.0.1',
    '--secure-port',
    String(kcmPort),
    '--use-service-account-credentials',
    '--root-ca-file',
    pki.ca.cert,
    '--service-account-private-key-file',
    pki.serviceAccountKey,
    '--cluster-signing-cert-file',
    pki.ca.cert,
    '--cluster-signing-key-file',
    pki.ca.key,
    '--service-cluster-ip-range',
    SERVICE_CIDR,
    '--controllers',
    '*',
    '--kube-api-qps',
    '200',
    '--kube-api-burst',
    '400',
    '--leader-elect',
    '--v',
    '1',
  ]);
  const schedulerConfig = kubeconfig('scheduler');
  const scheduler = start('kube-scheduler', bin['kube-scheduler'], [
    '--kubeconfig',
    schedulerConfig,
    '--authentication-kubeconfig',
    schedulerConfig,
    '--authorization-kubeconfig',
    schedulerConfig,
    '--bind-address',
    '127.0.0.1',
    '--secure-port',
    String(schedulerPort),
    '--leader-elect',
    '--v',
    '1',
  ]);
  const stagesFile = join(dir.path, 'kwok-stages.yaml');
  writeFileSync(stagesFile, KWOK_STAGES_YAML);
  const kwok = start('kwok', bin.kwok, [
    '--kubeconfig',
    kubeconfig('kwok'),
    '--config',
    stagesFile,
    '--cidr',
    '10.244.0.1/16',
    '--node-ip',
    '10.240.0.1',
    '--manage-nodes-with-annotation-selector',
    `${KWOK_NODE_ANNOTATION}=fake`,
    // renew a Lease per node as kubelets do; without it (kwok's default is 0) the node lifecycle
    // controller finds the nodes unresponsive after 50 s, marks them and their pods not Ready
    '--node-lease-duration-seconds',
    '40',
  ]);

  const nodeNames = Array.from({ length: options.nodes ?? 3 }, (_, i) => `kwok-node-${i}`);
  await Promise.all(nodeNames.map((name) => createFakeNode(api, name, KWOK_NODE_ANNOTATION)));
  const found = async (path: string): Promise<boolean> => (await api.call('GET', path)).status === 200;
  await Promise.all([
    ready(
      'kube-controller-manager (its Lease and the default ServiceAccount)',
      async () =>
        (await found('/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-controller-manager')) &&
        found('/api/v1/namespaces/default/serviceaccounts/default'),
      kcm,
    ),
    ready(
      'kube-scheduler (its Lease)',
      () => found('/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-scheduler'),
      scheduler,
    ),
    ready(
      `${nodeNames.length} kwok nodes Ready, with their Leases`,
      async () =>
        (await countReadyNodes(api)) >= nodeNames.length &&
        (await countItems(api, '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases')) >= nodeNames.length,
      kwok,
    ),
  ]);
  phase('controllers, scheduler and nodes ready');

  const kubeconfigPath = kubeconfig('admin');
  return {
    dir: dir.path,
    server,
    etcdEndpoint,
    kubeconfigPath,
    kubeconfigYaml: kubeconfigYaml(server, pki.ca.cert, 'admin', {
      clientCert: pki.clients.admin.cert,
      clientKey: pki.clients.admin.key,
    }),
    nodeNames,
    compactEtcd: () => compactEtcd(etcdEndpoint),
    stopApiServer: async (signal = 'SIGTERM') => {
      const current = running[1]?.daemon;
      if (current === undefined) return;
      if (signal === 'SIGTERM') return current.stop();
      current.signal('SIGKILL');
      await current.exited;
    },
    startApiServer: async () => {
      // running[1] stays the apiserver, so stop() still stops it after etcd's clients and before etcd
      const again: Running = {
        name: 'kube-apiserver',
        daemon: startDaemon({ name: 'kube-apiserver', command: bin['kube-apiserver'], args: apiserverArgs, dir }),
      };
      running[1] = again;
      await waitUntil('kube-apiserver /readyz after a restart', apiReady, options.startTimeoutMs ?? 120_000, {
        logFile: again.daemon.logFile,
        processes: [again],
        intervalMs: 50,
      });
    },
    mintServiceAccountKubeconfig: (namespace: string, serviceAccount: string, expirationSeconds = 3600) =>
      mintServiceAccountKubeconfig(api, pki.ca.cert, namespace, serviceAccount, expirationSeconds),
  };
}

/** Through etcd's JSON gateway (/v3/kv/...): the current revision, then a physical compaction to it. */
async function compactEtcd(endpoint: string): Promise<number> {
  const post = async (path: string, body: unknown): Promise<{ header?: { revision?: string } }> => {
    const response = await fetch(`${endpoint}${path}`, {
      method: 'POST',
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    if (!response.ok)
      throw new PgdeckError('unavailable', `etcd ${path}: HTTP ${response.status}: ${await response.text()}`);
    return (await response.json()) as { header?: { revision?: string } };
  };
  const revision = (await post('/v3/kv/range', { key: Buffer.from('/').toString('base64') })).header?.revision;
  if (revision === undefined) throw new PgdeckError('internal', 'etcd answered /v3/kv/range without a revision');
  await post('/v3/kv/compaction', { revision, physical: true });
  return Number(revision);
}

async function httpOk(url: string): Promise<boolean> {
  return (await fetch(url, { signal: AbortSignal.timeout(1000) })).ok;
}

interface Running {
  readonly name: string;
  readonly daemon: Daemon;
}

function timer(logger: Logger | undefined): (what: string) => void {
  let last = performance.now();
  return (what) => {
    const now = performance.now();
    logger?.info(`kube control plane: ${what}`, { ms: Math.round(now - last) });
    last = now;
  };
}
