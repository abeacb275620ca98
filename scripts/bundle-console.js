// After tsc: dist/console.cjs, the console's path as one CommonJS bundle (see src/cli/console-load.ts).
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import process from 'node:process';
import { fileURLToPath, URL } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const inkOutput = fileURLToPath(new URL('../node_modules/ink/build/output.js', import.meta.url));
const inkReconciler = /node_modules[\\/]ink[\\/]build[\\/]reconciler\.js$/;

const patches = {
  name: 'console-bundle',
  setup(b) {
    // yoga-layout's index awaits its wasm at the top level, which CommonJS cannot: the entry loads it first.
    b.onResolve({ filter: /^yoga-layout$/ }, () => ({ path: 'yoga-holder', namespace: 'pgdeck' }));
    b.onLoad({ filter: /^yoga-holder$/, namespace: 'pgdeck' }, () => ({
      contents: 'let yoga; export function setYoga(y) { yoga = y; } export { yoga as default };',
      loader: 'js',
    }));
    // Ink's React devtools (DEV=true only) load with a top-level await: left out of the console.
    b.onLoad({ filter: inkReconciler }, async (args) => {
      const { readFile } = await import('node:fs/promises');
      const text = await readFile(args.path, 'utf8');
      const patched = text
        .replace("await import('./devtools.js');", 'void 0;')
        .replace('? await loadPackageJson()', '? { name: undefined, version: undefined }');
      if (!patched.includes('void 0;') || patched.includes('await loadPackageJson'))
        throw new Error('bundle-console: ink reconciler.js changed; update the devtools patch');
      return { contents: patched, loader: 'js' };
    });
    b.onLoad({ filter: /src[\\/]ui[\\/]ink-output-module\.ts$/ }, () => ({
      contents: `export const loadInkOutputModule = () => import(${JSON.stringify(inkOutput)});`,
      loader: 'ts',
    }));
  },
};

await build({
  absWorkingDir: root,
  stdin: {
    contents: [
      "import { loadYoga } from 'yoga-layout/load';",
      "import { setYoga } from 'yoga-layout';",
      'export async function loadConsole() {',
      '  setYoga(await loadYoga());',
      "  return import('./src/ui/start.tsx');",
      '}',
    ].join('\n'),
    resolveDir: root,
    sourcefile: 'console-entry.js',
    loader: 'js',
  },
  outfile: 'dist/console.cjs',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  jsx: 'automatic',
  define: { 'process.env.NODE_ENV': '"production"' },
  external: ['react-devtools-core'],
  plugins: [patches],
  logLevel: 'warning',
});

// The V8 code cache beside it, made by loading the bundle once with the binary's node flags.
rmSync(`${root}/dist/console.cjs.cache`, { force: true });
const shebang = readFileSync(`${root}/src/main.ts`, 'utf8').split('\n')[0];
const flags = shebang.split(/\s+/).filter((word) => word.startsWith('--'));
execFileSync(
  process.execPath,
  [...flags, '--input-type=module', '-e', "await (await import('./dist/cli/console-load.js')).loadConsoleModule();"],
  { cwd: root, env: { ...process.env, NODE_ENV: 'production' }, stdio: 'inherit' },
);
