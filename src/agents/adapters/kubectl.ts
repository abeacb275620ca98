import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { errorMessage, PgdeckError } from '../kernel/errors.js';

const run = promisify(execFile);

/** Rendered manifests are a few hundred kilobytes at most; more is a mistake. */
const MAX_OUTPUT_BYTES = 32 * 1024 * 1024;

/** `kubectl kustomize DIR`: the overlay's objects as multi-document YAML. No kubectl on PATH is `not-found`. */
export async function kustomizeBuild(dir: string, kubectl = 'kubectl'): Promise<string> {
  try {
    const { stdout } = await run(kubectl, ['kustomize', dir], { maxBuffer: MAX_OUTPUT_BYTES, timeout: 120_000 });
    return stdout;
  } catch (error) {
    const failure = error as { code?: unknown; stderr?: string };
    if (failure.code === 'ENOENT')
      throw new PgdeckError(
        'not-found',
        `kubectl not found on PATH: install it, or render the overlay elsewhere and pass --file F.yaml`,
      );
    const reason = (failure.stderr ?? '').trim().split('\n')[0] || errorMessage(error);
    throw new PgdeckError('invalid-argument', `kubectl kustomize ${dir}: ${reason}`);
  }
}
