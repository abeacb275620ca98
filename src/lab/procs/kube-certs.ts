import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PgdeckError } from '../../agents/kernel/errors.js';

const run = promisify(execFile);

export interface KeyPair {
  readonly cert: string;
  readonly key: string;
}

/** The files of the lab cluster's PKI, made with the openssl CLI; every key is ECDSA P-256. */
export interface KubePki {
  readonly ca: KeyPair;
  /** The API server's serving certificate (127.0.0.1, localhost, the `kubernetes` service). */
  readonly apiserver: KeyPair;
  /**
   * Client certificates, by user: admin (system:masters), controller-manager, scheduler, kwok, and
   * front-proxy (the API server's own identity towards aggregated API servers).
   */
  readonly clients: Readonly<Record<KubeClientUser, KeyPair>>;
  /** Service-account token signing key (private) and its public half for verification. */
  readonly serviceAccountKey: string;
  readonly serviceAccountPub: string;
}

export type KubeClientUser = 'admin' | 'controller-manager' | 'scheduler' | 'kwok' | 'front-proxy';

export const FRONT_PROXY_CLIENT = 'front-proxy-client';

const CLIENT_SUBJECTS: Readonly<Record<KubeClientUser, string>> = {
  admin: '/O=system:masters/CN=pgdeck-admin',
  'controller-manager': '/CN=system:kube-controller-manager',
  scheduler: '/CN=system:kube-scheduler',
  kwok: '/O=system:masters/CN=kwok',
  'front-proxy': `/CN=${FRONT_PROXY_CLIENT}`,
};

/** Writes a fresh CA, serving, client and service-account keys into `dir` (valid for 10 days). */
export async function createKubePki(dir: string, serviceIp: string): Promise<KubePki> {
  // A config without default extensions, so every extension below is explicit.
  const config = join(dir, 'openssl.cnf');
  writeFileSync(config, '[req]\ndistinguished_name = dn\n[dn]\n');
  const file = (name: string): KeyPair => ({ cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '10', '-config', config];
  const ca = file('ca');
  await openssl([
    'req',
    '-x509',
    ...ec,
    '-keyout',
    ca.key,
    '-out',
    ca.cert,
    '-subj',
    '/CN=pgdeck-lab-ca',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  const leaf = (pair: KeyPair, subject: string, usage: string, san?: string): Promise<void> =>
    openssl([
      'req',
      '-x509',
      ...ec,
      '-CA',
      ca.cert,
      '-CAkey',
      ca.key,
      '-keyout',
      pair.key,
      '-out',
      pair.cert,
      '-subj',
      subject,
      '-addext',
      'basicConstraints=critical,CA:FALSE',
      '-addext',
      'keyUsage=critical,digitalSignature',
      '-addext',
      `extendedKeyUsage=${usage}`,
      ...(san === undefined ? [] : ['-addext', `subjectAltName=${san}`]),
    ]);
  const apiserver = file('apiserver');
  const sans = [
    'IP:127.0.0.1',
    `IP:${serviceIp}`,
    'DNS:localhost',
    'DNS:kubernetes',
    'DNS:kubernetes.default',
    'DNS:kubernetes.default.svc',
    'DNS:kubernetes.default.svc.cluster.local',
  ];
  const users = Object.keys(CLIENT_SUBJECTS) as KubeClientUser[];
  const clients = Object.fromEntries(users.map((user) => [user, file(`client-${user}`)])) as Record<
    KubeClientUser,
    KeyPair
  >;
  const serviceAccountKey = join(dir, 'service-account.key');
  const serviceAccountPub = join(dir, 'service-account.pub');
  await Promise.all([
    leaf(apiserver, '/CN=kube-apiserver', 'serverAuth', sans.join(',')),
    ...users.map((user) => leaf(clients[user], CLIENT_SUBJECTS[user], 'clientAuth')),
    openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', serviceAccountKey]),
  ]);
  await openssl(['ec', '-in', serviceAccountKey, '-pubout', '-out', serviceAccountPub]);
  return { ca, apiserver, clients, serviceAccountKey, serviceAccountPub };
}

async function openssl(args: readonly string[]): Promise<void> {
  try {
    await run('openssl', [...args]);
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? String(error);
    throw new PgdeckError(
      'unavailable',
      `openssl ${args[0] ?? ''} failed (is openssl installed?): ${stderr.trim().split('\n').slice(-2).join(' ')}`,
      { cause: error },
    );
  }
}
