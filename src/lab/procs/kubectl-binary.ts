import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { PgdeckError } from '../../agents/kernel/errors.js';
import { executable, readEnvFile, versionsFile } from './kube-binaries.js';

/**
 * Where kubectl (and with it `kubectl kustomize`) is: `PGDECK_KUBECTL` when set, else the build of
 * the pinned Kubernetes version (scripts/control-plane/kubectl/build, from the Go module proxy), else
 * inside nix develop the kubectl on PATH. Any other kubectl on PATH is not from the pin, so not used.
 */
export function kubectlBinary(): string {
  const configured = process.env.PGDECK_KUBECTL;
  if (configured !== undefined && configured !== '') {
    const found = executable(configured);
    if (found === undefined) throw new PgdeckError('unavailable', `PGDECK_KUBECTL=${configured} is not executable`);
    return found;
  }
  const dir = kubectlBuildDir();
  const built =
    dir !== undefined && existsSync(join(dir, 'complete.env')) ? executable(join(dir, 'bin', 'kubectl')) : undefined;
  if (built !== undefined) return built;
  const nix = process.env.IN_NIX_SHELL === undefined ? undefined : onPath('kubectl');
  if (nix !== undefined) return nix;
  throw new PgdeckError(
    'unavailable',
    'kubectl is not built: run scripts/control-plane/kubectl/build (or set PGDECK_KUBECTL)',
  );
}

/** The cache dir scripts/control-plane/kubectl/build fills for the pinned version (it may not exist yet). */
export function kubectlBuildDir(): string | undefined {
  const file = versionsFile();
  if (file === undefined) return undefined;
  const version = readEnvFile(file).KUBERNETES_VERSION;
  if (version === undefined) return undefined;
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'pgdeck', 'kubectl', version);
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const found = dir === '' ? undefined : executable(join(dir, name));
    if (found !== undefined) return found;
  }
  return undefined;
}
