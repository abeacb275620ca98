import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const K9S_MODULE = 'github.com/derailed/k9s@v0.50.16';

/** A `go install` of k9s already running on this machine (its command line names the module). */
function buildRunning(): boolean {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .some((e) => {
      try {
        return readFileSync(`/proc/${e}/cmdline`, 'utf8').includes('derailed/k9s@');
      } catch {
        return false;
      }
    });
}

/**
 * `$(go env GOPATH)/bin/k9s`, built once with `go install` from the Go module proxy when absent (some
 * minutes on a small machine; then cached). Not built when go is missing or another build runs: the
 * reason comes back instead.
 */
export function k9sBinary(): { path: string } | { missing: string } {
  let gopath: string;
  try {
    gopath = execFileSync('go', ['env', 'GOPATH'], { encoding: 'utf8' }).trim();
  } catch {
    return { missing: 'k9s not built: no go toolchain' };
  }
  const path = join(gopath, 'bin', 'k9s');
  if (existsSync(path)) return { path };
  if (buildRunning()) return { missing: `k9s not built: a \`go install ${K9S_MODULE}\` is still running` };
  const built = spawnSync('go', ['install', K9S_MODULE], { stdio: 'inherit' });
  return existsSync(path) ? { path } : { missing: `k9s not built: go install exited ${built.status}` };
}
