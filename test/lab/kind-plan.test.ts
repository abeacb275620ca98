import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  KIND_CLUSTER,
  LAB_NAMESPACE,
  PGDECK_IMAGE,
  kindDownPlan,
  kindRefusal,
  kindUpPlan,
  renderPlan,
} from '../../src/lab/kind/kind-plan.js';

const main = join(process.cwd(), 'dist', 'main.js');
const input = {
  repo: '/src/pgdeck',
  dir: '/tmp/lab',
  kubectl: '/bin/kubectl',
  apiToken: 'tok-SECRET-1',
  citusPassword: 'pw-SECRET-2',
};

describe('lab up --kind: the plan', () => {
  it('builds and loads the image, makes the cluster, applies the secrets then the lab overlay, then waits, in that order', () => {
    const steps = kindUpPlan(input);
    expect(steps.map((s) => s.argv.slice(0, 3).join(' '))).toEqual([
      `docker build -t`,
      'kind create cluster',
      'kind load docker-image',
      '/bin/kubectl --kubeconfig /tmp/lab/kind-kubeconfig',
      '/bin/kubectl --kubeconfig /tmp/lab/kind-kubeconfig',
      '/bin/kubectl --kubeconfig /tmp/lab/kind-kubeconfig',
    ]);
    expect(steps[0]!.argv).toEqual(['docker', 'build', '-t', PGDECK_IMAGE, '/src/pgdeck']);
    expect(steps[1]!.argv).toContain(KIND_CLUSTER);
    expect(steps[4]!.argv.slice(-2)).toEqual(['-k', '/src/pgdeck/manifests/overlays/lab']);
    expect(steps[4]!.argv).toContain('--server-side');
    expect(steps[5]!.argv).toEqual(expect.arrayContaining(['-n', LAB_NAMESPACE, 'wait', 'deployment', '--all']));
  });

  it('gives the overlay the Secrets it expects through stdin, never argv, and a rendering never shows them', () => {
    const steps = kindUpPlan(input);
    const secrets = steps[3]!;
    const list = JSON.parse(secrets.input ?? '') as {
      items: { kind: string; metadata: { name: string; namespace?: string }; stringData?: Record<string, string> }[];
    };
    expect(list.items.map((i) => `${i.kind}/${i.metadata.name}`)).toEqual([
      `Namespace/${LAB_NAMESPACE}`,
      'Secret/pgdeck-api-token',
      'Secret/citus-credentials',
    ]);
    expect(list.items[1]!.stringData).toEqual({ token: 'tok-SECRET-1' });
    expect(list.items[2]!.stringData).toEqual({ password: 'pw-SECRET-2' });
    const text = renderPlan(steps);
    for (const s of steps) expect(s.argv.join(' ')).not.toMatch(/SECRET/);
    expect(text).not.toMatch(/SECRET/);
    expect(text.split('\n').filter(Boolean)).toHaveLength(6);
    expect(text).toContain('(generated manifest, not shown)');
  });

  it('down deletes the cluster it made', () => {
    expect(kindDownPlan().map((s) => s.argv)).toEqual([['kind', 'delete', 'cluster', '--name', KIND_CLUSTER]]);
  });
});

describe('lab up --kind: the refusal', () => {
  const host = { kind: '/bin/kind', docker: '/bin/docker', dockerInfoError: undefined, kubectl: '/bin/kubectl' };

  it.each([
    [{}, null],
    [{ kind: undefined }, /needs Docker and kind: no `kind` on PATH; nothing was started$/],
    [{ docker: undefined }, /no `docker` on PATH/],
    [{ dockerInfoError: 'Cannot connect to the Docker daemon' }, /`docker info` failed \(Cannot connect/],
    [{ kubectl: undefined }, /no kubectl/],
    [{ docker: undefined, kind: undefined }, /no `docker` on PATH; no `kind` on PATH/],
  ])('%o -> %s', (missing, expected) => {
    const refusal = kindRefusal({ ...host, ...missing });
    if (expected === null) expect(refusal).toBeNull();
    else expect(refusal).toMatch(expected);
  });

  it('from the CLI on a host without them: one line naming both, exit 2, nothing started or written', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'pgdeck-nokind-'));
    const dir = join(empty, 'lab');
    const child = spawn(process.execPath, [main, 'lab', 'up', '--kind', '--dir', dir], {
      env: { ...process.env, PATH: empty, CI: 'true' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^pgdeck: lab up --kind needs Docker and kind: no `docker` on PATH; no `kind` on PATH/),
    ]);
    expect(existsSync(dir)).toBe(false);
  }, 30_000);
});
