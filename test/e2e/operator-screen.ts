import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { startDaemon, waitUntil, type Daemon } from '../../src/lab/procs/daemon.js';
import { freePort } from '../../src/lab/procs/ports.js';
import { createServiceDir, type ServiceDir } from '../../src/lab/procs/service-dir.js';
import type { KubeTestCluster } from '../helpers/kube.js';
import { TmuxTerminal } from '../helpers/tmux.js';

/** The repository's root, where dist/ is. */
export const root = join(import.meta.dirname, '..', '..');

const escape = (key: string): string => key.replace(/[/-]/g, (c) => `\\${c}`);

/** A PostgresCluster's row in the Clusters view: `▶ ns/orders  Running  3/3  orders-0  all conditions met`. */
export function clusterRow(
  screen: string,
  key: string,
): { selected: boolean; phase: string; ready: string; primary: string; conditions: string } | null {
  for (const line of screen.split('\n')) {
    const m = new RegExp(`^(▶ | {2})${escape(key)}\\s+(\\S+(?: \\(paused\\))?)\\s+(\\d+/\\d+)\\s+(\\S+)\\s+(.*)$`).exec(
      line,
    );
    if (m !== null) return { selected: m[1] === '▶ ', phase: m[2]!, ready: m[3]!, primary: m[4]!, conditions: m[5]! };
  }
  return null;
}

const memberPattern = (key: string, member: string, selected = false): RegExp =>
  new RegExp(
    `^${selected ? '▶ ' : '(?:▶ | {2})'}${escape(key)}\\s+${member}\\s+(primary|replica|unknown)\\s+(ready|not ready)\\s*$`,
    'm',
  );

/** A member's row below: `  ns/orders  orders-0  primary  ready` gives `primary ready`. */
export const memberRow = (screen: string, key: string, member: string): string | undefined =>
  memberPattern(key, member).exec(screen)?.slice(1, 3).join(' ');

/** Whether the selected row (the focused table's) is `member`'s. */
export const memberSelected = (screen: string, key: string, member: string): boolean =>
  memberPattern(key, member, true).test(screen);

/** The headless operator daemon (built CLI) and its URL and token, for `pgdeck attach`. */
export interface OperatorDaemon {
  readonly daemon: Daemon;
  readonly dir: ServiceDir;
  readonly url: string;
  readonly token: string;
}

/**
 * Starts `pgdeck --agent patroni-operator` over the control plane, watching `namespace`, listening on
 * `host` (loopback unless given) with `extraArgs` after its own; resolves once healthy.
 */
export async function startOperatorDaemon(
  kube: KubeTestCluster,
  namespace: string,
  { host = '127.0.0.1', extraArgs = [] }: { readonly host?: string; readonly extraArgs?: readonly string[] } = {},
): Promise<OperatorDaemon> {
  expect(existsSync(join(root, 'dist', 'main.js')), 'dist/main.js is missing: run `npm run build` first').toBe(true);
  const token = randomBytes(24).toString('hex');
  const dir = createServiceDir('e2e-operator');
  const port = await freePort();
  const url = `http://${host}:${port}`;
  const kubeconfig = kube.plane.kubeconfigPath;
  const daemon = startDaemon({
    name: 'patroni-operator',
    command: process.execPath,
    args: [
      join(root, 'dist', 'main.js'),
      ...['--agent', 'patroni-operator', '--listen', `${host}:${port}`],
      ...['--kubeconfig', kubeconfig, '--watch-namespace', namespace, '--operator-instance', 'operator-0'],
      ...extraArgs,
    ],
    dir,
    env: { ...process.env, PGDECK_TOKEN: token, KUBECONFIG: kubeconfig, PGDECK_NAMESPACE: namespace },
  });
  await waitUntil(
    'the operator daemon answers /health',
    async () => (await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) })).status === 200,
    60_000,
    { logFile: daemon.logFile, processes: [{ name: 'patroni-operator', daemon }], intervalMs: 100 },
  );
  return { daemon, dir, url, token };
}

/** The built console attached to the daemon, in tmux. */
export const attachConsole = (d: OperatorDaemon): TmuxTerminal =>
  TmuxTerminal.start(`env -u CI PGDECK_TOKEN=${d.token} NODE_ENV=production node dist/main.js attach ${d.url}`, {
    cwd: root,
    columns: 160,
    rows: 48,
    prefix: 'pgdeck-operator',
  });
