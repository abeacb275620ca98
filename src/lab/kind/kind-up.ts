import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { PgdeckError } from '../../agents/kernel/errors.js';
import { executable, versionsFile } from '../procs/kube-binaries.js';
import { kubectlBinary } from '../procs/kubectl-binary.js';
import { kindDownPlan, kindRefusal, kindUpPlan, renderPlan, type KindHost, type KindStep } from './kind-plan.js';

const DOCKER_INFO_TIMEOUT_MS = 10_000;

function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter))
    if (dir !== '') {
      const found = executable(join(dir, name));
      if (found !== undefined) return found;
    }
  return undefined;
}

/** What this host has for kind mode: runs only `docker info` (which starts nothing). */
export function kindHost(env: NodeJS.ProcessEnv = process.env): KindHost {
  const docker = onPath('docker', env);
  let dockerInfoError: string | undefined;
  if (docker !== undefined) {
    const info = spawnSync(docker, ['info', '--format', '{{.ServerVersion}}'], {
      env,
      encoding: 'utf8',
      timeout: DOCKER_INFO_TIMEOUT_MS,
    });
    if (info.status !== 0)
      dockerInfoError = (info.stderr || info.error?.message || `exit ${String(info.status)}`).trim().split('\n')[0];
  }
  let kubectl: string | undefined;
  try {
    kubectl = kubectlBinary();
  } catch {
    kubectl = onPath('kubectl', env);
  }
  return { kind: onPath('kind', env), docker, dockerInfoError, kubectl };
}

function run(step: KindStep): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(step.argv[0]!, step.argv.slice(1), { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    child.once('error', (error) => reject(new PgdeckError('unavailable', `${step.what}: ${error.message}`)));
    child.once('exit', (code) =>
      code === 0
        ? resolve()
        : reject(
            new PgdeckError(
              'unavailable',
              `${step.what} failed (exit ${String(code)}): ${stderr.trim().split('\n').at(-1) ?? ''}`,
            ),
          ),
    );
    child.stdin.end(step.input ?? '');
  });
}

async function runPlan(steps: readonly KindStep[], write: (text: string) => void): Promise<void> {
  const started = Date.now();
  for (const [i, step] of steps.entries()) {
    write(`[${i + 1}/${steps.length}] ${step.what}\n`);
    await run(step);
  }
  write(`done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

/** The checkout this pgdeck runs from (its Dockerfile and manifests/). */
function repoRoot(): string {
  const versions = versionsFile();
  if (versions === undefined) throw new PgdeckError('unavailable', 'lab up --kind runs from a checkout of pgdeck');
  return dirname(dirname(dirname(versions)));
}

/**
 * `pgdeck lab up --kind`: refuses (exit 2, nothing started) where Docker or kind is missing, else
 * makes the kind cluster and applies the lab overlay, a progress line per step. `plan` only prints
 * what it would run.
 */
export async function kindUp(dir: string, write: (text: string) => void, planOnly: boolean): Promise<void> {
  const host = kindHost();
  const steps = kindUpPlan({
    repo: repoRoot(),
    dir,
    kubectl: host.kubectl ?? 'kubectl',
    apiToken: randomBytes(24).toString('base64url'),
    citusPassword: randomBytes(24).toString('base64url'),
  });
  if (planOnly) return write(renderPlan(steps));
  const refusal = kindRefusal(host);
  if (refusal !== null) throw new PgdeckError('invalid-argument', refusal);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  await runPlan(steps, write);
}

/** `pgdeck lab down --kind`: deletes the kind cluster. */
export async function kindDown(write: (text: string) => void): Promise<void> {
  if (onPath('kind', process.env) === undefined)
    throw new PgdeckError('invalid-argument', 'lab down --kind: no `kind` on PATH; nothing was stopped');
  await runPlan(kindDownPlan(), write);
}
