import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire, Module } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script, constants } from 'node:vm';
import type * as ConsoleModuleNamespace from '../ui/start.js';

type ConsoleModule = typeof ConsoleModuleNamespace;

interface Bundle {
  loadConsole(): Promise<ConsoleModule>;
}

const wrap = (Module as unknown as { wrap(source: string): string }).wrap;

/**
 * The console (ui/start and Ink, React, Yoga under it). Built, it is dist/console.cjs
 * (scripts/bundle-console.js): one file instead of some 600 ES modules to resolve, read, scan and
 * compile, compiled from the V8 code cache beside it (dist/console.cjs.cache, written by the build
 * and again whenever V8 rejects it, e.g. under another node). From the sources (tsx), the modules.
 */
export async function loadConsoleModule(): Promise<ConsoleModule> {
  const file = join(dirname(fileURLToPath(import.meta.url)), '..', 'console.cjs');
  if (!existsSync(file)) return import('../ui/start.js');
  const cacheFile = `${file}.cache`;
  const cachedData = existsSync(cacheFile) ? readFileSync(cacheFile) : undefined;
  const script = new Script(wrap(readFileSync(file, 'utf8')), {
    filename: file,
    ...(cachedData === undefined ? {} : { cachedData }),
    importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const module = { exports: {} as Bundle };
  (script.runInThisContext() as (...args: unknown[]) => void)(
    module.exports,
    createRequire(file),
    module,
    file,
    dirname(file),
  );
  const loaded = await module.exports.loadConsole();
  if (cachedData === undefined || script.cachedDataRejected === true) writeCodeCache(cacheFile, script);
  return loaded;
}

/** Best effort: a read-only install runs without a cache, compiling the bundle each start. */
function writeCodeCache(cacheFile: string, script: Script): void {
  const temporary = `${cacheFile}.${process.pid}`;
  try {
    writeFileSync(temporary, script.createCachedData());
    renameSync(temporary, cacheFile);
  } catch {
    return;
  }
}
