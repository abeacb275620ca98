// `npm run build`, after `tsc --noEmit`: the CLI as an esbuild bundle in dist/, so start-up does not
// resolve, read and compile some 900 module files one by one, nor run node's CJS export scan over
// React's reconciler (both its production and development builds) on every start.
//  - Entries: dist/main.js (the `pgdeck` bin) and dist/kubectl-pgdeck.js. Code splitting keeps
//    every `await import()` of src/main.ts a chunk of its own, loaded only when that path runs: the
//    UI, the lab, the agents and their client libraries stay out of `pgdeck status` and of the
//    headless agents that do not need them.
//  - Bundled: our code and the pure-JS packages of the console's path (yargs, zod, yaml, Ink, React;
//    React picks its production or development build at run time from NODE_ENV, as unbundled).
//  - Left in node_modules (loaded from there at run time, only by the chunks that need them): the
//    client libraries, which read files of their own packages at run time (etcd3's .proto files) or
//    are loaded only by agents.
import { rmSync } from 'node:fs';
import { fileURLToPath, URL } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const inkOutput = fileURLToPath(new URL('../node_modules/ink/build/output.js', import.meta.url));

/** src/ui/ink-output-module.ts finds Ink's output.js at run time; in the bundle it is the bundled one. */
const inkOutputModule = {
  name: 'ink-output-module',
  setup(b) {
    b.onLoad({ filter: /src[\\/]ui[\\/]ink-output-module\.ts$/ }, () => ({
      contents: `export const loadInkOutputModule = () => import(${JSON.stringify(inkOutput)});`,
      loader: 'ts',
    }));
  },
};

rmSync(`${root}/dist`, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: ['src/main.ts', 'src/kubectl-pgdeck.ts'],
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  jsx: 'automatic',
  chunkNames: 'chunks/[name]-[hash]',
  external: [
    '@kubernetes/client-node',
    'etcd3',
    'ioredis',
    'pg',
    'pg-native',
    'pino',
    'prom-client',
    'react-devtools-core',
  ],
  // CJS packages in an ESM bundle call require(): give every chunk one.
  banner: {
    js: "import { createRequire as __pgdeckCreateRequire } from 'node:module'; const require = __pgdeckCreateRequire(import.meta.url);",
  },
  plugins: [inkOutputModule],
  logLevel: 'warning',
});
