import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { writeReport, type BenchOptions, type BenchResult } from './report.js';

/**
 * `npm run bench -- NAME [--quick]`: runs `bench/NAME.ts`, whose `run(opts)` returns a BenchResult,
 * then prints and saves the report. Every top-level `bench/*.ts` except this runner and report.ts
 * is a bench; shared bench code goes in a subfolder.
 */
const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const name = args.find((a) => !a.startsWith('--'));
const available = (await readdir(here))
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && f !== 'report.ts')
  .map((f) => f.slice(0, -3))
  .sort();

if (name === undefined || !available.includes(name)) {
  process.stderr.write(
    `${name === undefined ? 'no bench given' : `unknown bench "${name}"`}; available: ${available.join(', ')}\n`,
  );
  process.exit(2);
}

const bench = (await import(pathToFileURL(join(here, `${name}.ts`)).href)) as {
  run?: (opts: BenchOptions) => Promise<BenchResult>;
};
if (typeof bench.run !== 'function') {
  process.stderr.write(`bench/${name}.ts exports no run(opts)\n`);
  process.exit(2);
}
const options: BenchOptions = { quick, args: args.filter((a) => a.startsWith('--')) };
await writeReport(await bench.run(options));
