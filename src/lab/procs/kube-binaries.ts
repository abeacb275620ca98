import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PgdeckError } from '../../agents/kernel/errors.js';

export const KUBE_BINARIES = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok'] as const;
export type KubeBinary = (typeof KUBE_BINARIES)[number];

/**
 * Where the control-plane binaries are, all five from one place: `PGDECK_KUBE_BIN` when set, else PATH
 * when it has all of them (nix), else the build cache of the versions pinned in
 * scripts/control-plane/versions.env (what scripts/control-plane/build writes). All or nothing, so an
 * older etcd on PATH (Debian's 3.4) is never mixed with a newer API server.
 */
export function kubeBinaries(): Readonly<Record<KubeBinary, string>> {
  const configured = process.env.PGDECK_KUBE_BIN;
  if (configured !== undefined && configured !== '') {
    const found = inDir(configured);
    if (found === undefined)
      throw new PgdeckError('unavailable', `PGDECK_KUBE_BIN=${configured} lacks one of ${KUBE_BINARIES.join(', ')}`);
    return found;
  }
  const onPath = allOnPath();
  if (onPath !== undefined) return onPath;
  const cache = controlPlaneBuildDir();
  const built = cache === undefined ? undefined : inDir(join(cache, 'bin'));
  if (built !== undefined) return built;
  throw new PgdeckError(
    'unavailable',
    'the Kubernetes control plane is not built: run scripts/control-plane/build (or set PGDECK_KUBE_BIN)',
  );
}

/** The cache dir scripts/control-plane/build fills for the pinned versions (it may not exist yet). */
export function controlPlaneBuildDir(): string | undefined {
  const file = versionsFile();
  if (file === undefined) return undefined;
  const versions = readEnvFile(file);
  const root = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'pgdeck', 'control-plane');
  return join(
    root,
    `kubernetes-${versions.KUBERNETES_VERSION}_etcd-${versions.ETCD_VERSION}_kwok-${versions.KWOK_VERSION}`,
  );
}

/** KEY=value lines (comments and blanks skipped), as versions.env and the build's stamp file are written. */
export function readEnvFile(file: string): Readonly<Record<string, string>> {
  const entries = readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#') && line.includes('='))
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as const);
  return Object.fromEntries(entries);
}

/** scripts/control-plane/versions.env of the checkout this module runs from (src/ or dist/). */
export function versionsFile(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'scripts', 'control-plane', 'versions.env');
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function inDir(dir: string): Record<KubeBinary, string> | undefined {
  const found: Partial<Record<KubeBinary, string>> = {};
  for (const name of KUBE_BINARIES) {
    const path = executable(join(dir, name));
    if (path === undefined) return undefined;
    found[name] = path;
  }
  return found as Record<KubeBinary, string>;
}

function allOnPath(): Record<KubeBinary, string> | undefined {
  const found: Partial<Record<KubeBinary, string>> = {};
  for (const name of KUBE_BINARIES) {
    const dir = (process.env.PATH ?? '').split(':').find((d) => d !== '' && executable(join(d, name)) !== undefined);
    if (dir === undefined) return undefined;
    found[name] = join(dir, name);
  }
  return found as Record<KubeBinary, string>;
}

export function executable(path: string): string | undefined {
  try {
    accessSync(path, constants.X_OK);
    return path;
  } catch {
    return undefined;
  }
}
