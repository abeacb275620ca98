import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/**
 * Ink's build/output.js, the module instance Ink itself renders with. The console bundle
 * (scripts/bundle-console.js) swaps this file for an import of the copy it holds.
 */
export function loadInkOutputModule(): Promise<unknown> {
  const index = createRequire(import.meta.url).resolve('ink');
  return import(pathToFileURL(index.replace(/index\.js$/, 'output.js')).href);
}
