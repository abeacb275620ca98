import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServiceDir, NETWORK_FILE, releaseNetwork } from './service-dir.js';

/** One node's network namespace: its own address on the bridge, reachable from the host through it. */
export interface NetnsNode {
  readonly namespace: string;
  readonly address: string;
  /** Prefix a command with this to run it inside the namespace. */
  readonly wrap: readonly string[];
  /** Takes the node's link to the bridge down: it reaches nothing but itself; nothing reaches it. */
  cut(): void;
  heal(): void;
}

export interface NetnsBridge {
  /** The bridge's link name on the host. */
  readonly name: string;
  /** The host's own address on the bridge (where etcd listens). */
  readonly hostAddress: string;
  /** The bridge's network, `10.213.X.0/24`. */
  readonly cidr: string;
  readonly nodes: readonly NetnsNode[];
  /** A pg_hba.conf (trust: a lab or a test only) for the bridge's network and loopback, readable by postgres. */
  readonly hbaFile: string;
  /** Deletes the namespaces (with their veth pairs) and the bridge. */
  remove(): void;
}

/** Why network namespaces cannot be made here (not root, no iproute2), or null when they can. */
export function netnsUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'needs root to create network namespaces';
  const probe = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) return 'needs iproute2 (`ip netns`)';
  return null;
}

const ip = (...args: string[]): void => void execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

/** A 10.213.X.0/24 no address on this host is in yet (parallel labs and tests each get their own). */
function freeSubnet(): string {
  const used = spawnSync('ip', ['-o', '-4', 'addr', 'show'], { encoding: 'utf8' }).stdout ?? '';
  for (let tries = 0; tries < 32; tries++) {
    const subnet = `10.213.${randomBytes(1)[0]!}`;
    if (!used.includes(` ${subnet}.`)) return subnet;
  }
  return `10.213.${randomBytes(1)[0]!}`;
}

/**
 * A bridge on the host and `count` namespaces, each joined to it by a veth pair, on a free
 * 10.213.X.0/24. Its service dir names the links, so a crashed owner's network is swept too.
 */
export function createBridge(count: number): NetnsBridge {
  const tag = randomBytes(2).toString('hex');
  const subnet = freeSubnet();
  const bridge = `brpg${tag}`;
  const namespaces = Array.from({ length: count }, (_, i) => `pgdeck-${tag}-${i}`);
  const dir = createServiceDir('netns');
  chmodSync(dir.path, 0o755);
  const outsides = namespaces.map((_, i) => `vh${tag}${i}`);
  writeFileSync(join(dir.path, NETWORK_FILE), JSON.stringify({ namespaces, links: [bridge, ...outsides] }));
  const remove = (): void => {
    releaseNetwork(dir.path);
    dir.remove();
  };
  const hbaFile = join(dir.path, 'pg_hba.conf');
  writeFileSync(
    hbaFile,
    [
      'local all all trust',
      'host all all 127.0.0.1/32 trust',
      `host all all ${subnet}.0/24 trust`,
      `host replication all ${subnet}.0/24 trust`,
      '',
    ].join('\n'),
  );
  chmodSync(hbaFile, 0o644);
  try {
    ip('link', 'add', bridge, 'type', 'bridge');
    ip('addr', 'add', `${subnet}.1/24`, 'dev', bridge);
    ip('link', 'set', bridge, 'up');
    const nodes = namespaces.map((namespace, i): NetnsNode => {
      const [outside, inside] = [outsides[i]!, `vn${tag}${i}`];
      const address = `${subnet}.${i + 2}`;
      ip('netns', 'add', namespace);
      ip('link', 'add', outside, 'type', 'veth', 'peer', 'name', inside);
      ip('link', 'set', inside, 'netns', namespace);
      ip('link', 'set', outside, 'master', bridge, 'up');
      ip('-n', namespace, 'addr', 'add', `${address}/24`, 'dev', inside);
      ip('-n', namespace, 'link', 'set', inside, 'up');
      ip('-n', namespace, 'link', 'set', 'lo', 'up');
      return {
        namespace,
        address,
        wrap: ['ip', 'netns', 'exec', namespace],
        cut: () => ip('link', 'set', outside, 'down'),
        heal: () => ip('link', 'set', outside, 'up'),
      };
    });
    return { name: bridge, hostAddress: `${subnet}.1`, cidr: `${subnet}.0/24`, nodes, hbaFile, remove };
  } catch (error) {
    remove();
    throw error;
  }
}
