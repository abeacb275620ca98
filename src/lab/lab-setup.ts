import { spawn, spawnSync } from 'node:child_process';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { checkoutFile } from '../checkout-file.js';

/** How the console's `L` runs `pgdeck lab up`: inside `nix develop` when nix can, else directly, and why. */
export interface SetupCommand {
  readonly argv: readonly string[];
  readonly via: 'nix develop' | 'directly';
  readonly why: string;
}

const NIX_PROBE_MS = 5000;

/** nix on PATH with flakes enabled (`nix develop` needs both experimental features). */
function nixFlakes(): boolean {
  const probe = spawnSync('nix', ['show-config', '--json'], { encoding: 'utf8', timeout: NIX_PROBE_MS });
  if (probe.status !== 0) return false;
  try {
    const config = JSON.parse(probe.stdout) as { 'experimental-features'?: { value?: unknown } };
    const features = config['experimental-features']?.value;
    return Array.isArray(features) && features.includes('flakes') && features.includes('nix-command');
  } catch {
    return false;
  }
}

/** `pgdeck lab up --dir DIR -o json`, wrapped in `nix develop` when nix is present and can run the flake. */
export function setupCommand(
  command: readonly string[],
  dir: string,
  args: readonly string[] = [],
  env: NodeJS.ProcessEnv = process.env,
): SetupCommand {
  const up = [...command, 'lab', 'up', ...args, '--dir', dir, '-o', 'json'];
  if (env.IN_NIX_SHELL !== undefined && env.IN_NIX_SHELL !== '')
    return { argv: up, via: 'directly', why: 'already inside nix develop' };
  const flake = checkoutFile('flake.nix');
  if (flake === undefined) return { argv: up, via: 'directly', why: 'no flake.nix beside this checkout' };
  if (spawnSync('nix', ['--version'], { timeout: NIX_PROBE_MS }).status !== 0)
    return { argv: up, via: 'directly', why: 'nix is not installed' };
  if (!nixFlakes())
    return { argv: up, via: 'directly', why: 'nix is installed without the flakes and nix-command features' };
  return { argv: ['nix', 'develop', dirname(flake), '--command', ...up], via: 'nix develop', why: 'nix is present' };
}

export interface SetupOutcome {
  readonly ok: boolean;
  readonly message: string;
}

/**
 * Runs the setup, handing each progress event of `lab up -o json` to `onEvent`; resolves when it
 * exits: ok once the lab is usable (the Kubernetes parts may still be joining).
 */
export function runLabSetup(
  setup: SetupCommand,
  onEvent: (event: Record<string, unknown>) => void,
): Promise<SetupOutcome> {
  return new Promise((resolve) => {
    const child = spawn(setup.argv[0]!, setup.argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let lastError = '';
    createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        onEvent(JSON.parse(line) as Record<string, unknown>);
      } catch {
        lastError = line;
      }
    });
    createInterface({ input: child.stderr }).on('line', (line) => {
      if (line.trim() !== '') lastError = line.replace(/^pgdeck: /, '');
    });
    child.once('error', (error) => resolve({ ok: false, message: `${setup.argv[0]}: ${error.message}` }));
    child.once('exit', (code) =>
      resolve(
        code === 0
          ? { ok: true, message: `lab up (${setup.via}: ${setup.why})` }
          : { ok: false, message: lastError === '' ? `lab up exited with ${code}` : lastError },
      ),
    );
  });
}
