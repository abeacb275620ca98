import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { filesUnder, MANIFESTS, ROOT, yamlObjects } from '../helpers/manifests.js';

/** `FROM image AS name` stages of a Dockerfile, each with its instructions (continuations joined). */
function stages(text: string): { from: string; lines: string[] }[] {
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const found: { from: string; lines: string[] }[] = [];
  for (const line of lines)
    if (/^FROM\s/i.test(line)) found.push({ from: line, lines: [] });
    else found.at(-1)?.lines.push(line);
  return found;
}

describe('the tree holds no secret', () => {
  it('no YAML file in the repository is a Secret with data or stringData', () => {
    const files = filesUnder(ROOT, ['.yaml', '.yml']);
    expect(files.length).toBeGreaterThan(20);
    const offending = files.flatMap((file) =>
      yamlObjects(readFileSync(file, 'utf8'))
        .filter((o) => o.kind === 'Secret' && ('data' in o || 'stringData' in o))
        .map((o) => `${relative(ROOT, file)}: ${o.metadata.name}`),
    );
    expect(offending).toEqual([]);
  });

  it('no kustomization generates a Secret', () => {
    const kustomizations = filesUnder(MANIFESTS, ['kustomization.yaml']);
    expect(kustomizations.length).toBeGreaterThanOrEqual(10);
    for (const file of kustomizations) expect(parse(readFileSync(file, 'utf8'))).not.toHaveProperty('secretGenerator');
  });
});

describe('the Dockerfile', () => {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const all = stages(text);
  const final = all.at(-1)!;

  it('is multi-stage on node:20 slim, compiling with npm run build', () => {
    expect(all.length).toBeGreaterThanOrEqual(2);
    for (const s of all) expect(s.from).toMatch(/^FROM node:20(\.\d+)*-[a-z]*-?slim\b/);
    expect(all.slice(0, -1).some((s) => s.lines.includes('RUN npm run build'))).toBe(true);
  });

  it('runs the compiled main as a non-root user, with only production dependencies', () => {
    const user = final.lines.filter((l) => l.startsWith('USER ')).at(-1);
    expect(user).toBeDefined();
    expect(user!.slice(5).split(':')[0]).not.toMatch(/^(root|0)$/);
    expect(final.lines.some((l) => /npm (ci|install)(?! .*--omit=dev)/.test(l))).toBe(false);
    const modules = final.lines.find((l) => l.includes('node_modules'))!;
    const source = /--from=(\S+)/.exec(modules)?.[1];
    const stage = all.find((s) => s.from.endsWith(` AS ${source}`));
    expect(stage?.lines.some((l) => /^RUN npm ci --omit=dev\b/.test(l))).toBe(true);
    expect(final.lines.find((l) => l.startsWith('ENTRYPOINT'))).toBe('ENTRYPOINT ["node", "/app/dist/main.js"]');
  });

  it("runs the same program as the flake's OCI image, as the same user the manifests run", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    expect(pkg.bin.pgdeck).toBe('dist/main.js');
    const flake = readFileSync(join(ROOT, 'flake.nix'), 'utf8');
    expect(flake).toMatch(/Entrypoint = \[ "\$\{pgdeck\}\/bin\/pgdeck" \]/);
    const flakeUser = /User = "(\d+):(\d+)"/.exec(flake);
    expect(final.lines).toContain(`USER ${flakeUser?.[1]}:${flakeUser?.[2]}`);
    const deployment = readFileSync(join(MANIFESTS, 'base/citus-sync/deployment.yaml'), 'utf8');
    expect(deployment).toContain(`runAsUser: ${flakeUser?.[1]}`);
  });
});
