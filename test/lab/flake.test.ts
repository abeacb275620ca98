import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** `nix-instantiate --parse` works offline (Debian's nix-bin, installed by scripts/setup); nothing is evaluated. */
const parser = spawnSync('sh', ['-c', 'command -v nix-instantiate'], { encoding: 'utf8' }).stdout.trim();
const parse = (file: string) => spawnSync(parser, ['--parse', file], { encoding: 'utf8' });

describe.skipIf(parser === '')('flake.nix (skipped without nix-instantiate: scripts/setup installs nix-bin)', () => {
  it('parses, and a broken copy does not', () => {
    const ok = parse('flake.nix');
    expect(ok.status, ok.stderr).toBe(0);
    const broken = join(mkdtempSync(join(tmpdir(), 'pgdeck-flake-')), 'flake.nix');
    writeFileSync(broken, readFileSync('flake.nix', 'utf8').replace('outputs = {', 'outputs = {{'));
    expect(parse(broken).status).not.toBe(0);
  });

  it('provides every binary the lab and the tests use, the package, the app and the image', () => {
    const ast = parse('flake.nix').stdout;
    for (const name of ['nodejs_20', 'citus', 'etcd', 'redis', 'haproxy', 'patroni', 'kubectl', 'kubernetes', 'kwok'])
      expect(ast, name).toContain(name);
    for (const name of ['kind', 'tmux', 'iproute2', 'psycopg2', 'buildNpmPackage', 'buildLayeredImage'])
      expect(ast, name).toContain(name);
    for (const output of ['devShells', 'packages', 'apps']) expect(ast, output).toContain(output);
  });
});
