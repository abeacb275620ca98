import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const MAIN = resolve('dist/main.js');

/** The files node loads before main.js runs a line: main.js and every chunk it imports statically, transitively. */
function staticClosure(entry: string): Map<string, string> {
  const seen = new Map<string, string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    const text = readFileSync(file, 'utf8');
    seen.set(file, text);
    for (const [, spec] of text.matchAll(/^import\s[^(]*?["'](\.[^"']+)["'];?$/gm)) visit(join(dirname(file), spec!));
  };
  visit(entry);
  return seen;
}

/** Bare packages a set of files imports statically (`import ... from "pkg"`), and dynamically. */
function bareImports(texts: Iterable<string>, dynamic: boolean): Set<string> {
  const pattern = dynamic ? /\bimport\(\s*["']([^."'][^"']*)["']\s*\)/g : /^import\s[^(]*?["']([^."'][^"']*)["'];?$/gm;
  const found = new Set<string>();
  for (const text of texts) for (const [, spec] of text.matchAll(pattern)) found.add(spec!);
  return found;
}

/** esbuild marks each bundled module with a `// path` line (node_modules may sit behind `../`): the source files in a set of chunks. */
function sources(texts: Iterable<string>): string[] {
  const found: string[] = [];
  for (const text of texts)
    for (const [, path] of text.matchAll(/^\/\/ (?:\S*?\/)?((?:src|node_modules)\/\S+)$/gm)) found.push(path!);
  return found;
}

describe('the bundled CLI (npm run build)', () => {
  it('loads neither the UI, the lab, the agents nor a client library before a command asks for them', () => {
    expect(existsSync(MAIN), 'dist/main.js is missing: run `npm run build` first').toBe(true);
    const closure = staticClosure(MAIN);
    const eager = sources(closure.values());
    expect(eager).toContain('src/main.ts');
    expect(eager).toContain('src/agents/settings.ts');
    // as in src/: main's static graph holds the pure ui/format.ts (status tables) and adapters/kubectl.ts
    // (runs the kubectl binary, for deploy), and nothing else of the UI, the lab or the adapters
    const lazyOnly = [
      /^src\/ui\/(?!format\.ts$)/,
      /^src\/lab\//,
      /^src\/agents\/(registry|kernel\/runtime)\.ts$/,
      /^src\/agents\/adapters\/(?!kubectl\.ts$)/,
      /^src\/cli\/(headless|attach-kube)\.ts$/,
      /^node_modules\/(ink|react|react-reconciler|yoga-layout)\//,
    ];
    expect(eager.filter((path) => lazyOnly.some((p) => p.test(path)))).toEqual([]);
    const clients = ['@kubernetes/client-node', 'etcd3', 'ioredis', 'pg', 'pino', 'prom-client'];
    expect([...bareImports(closure.values(), false)].filter((spec) => clients.includes(spec))).toEqual([]);
  });

  it('keeps the UI and the agents in chunks of their own, which do reach them', () => {
    const eager = staticClosure(MAIN);
    const chunksDir = resolve('dist/chunks');
    const lazy = [...eager].flatMap(([file, text]) =>
      [...text.matchAll(/\bimport\(\s*["'](\.[^"']+)["']\s*\)/g)].map(([, spec]) => join(dirname(file), spec!)),
    );
    expect(lazy.length).toBeGreaterThan(0);
    expect(lazy.filter((file) => !file.startsWith(chunksDir))).toEqual([]);
    const reached = new Map<string, string>();
    for (const file of lazy) for (const [f, text] of staticClosure(file)) reached.set(f, text);
    const paths = sources(reached.values());
    expect(paths).toContain('src/agents/registry.ts');
    expect(paths).toContain('src/ui/start.tsx');
    expect(paths.some((p) => p.startsWith('node_modules/ink/'))).toBe(true);
  });
});
