import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/**
 * Ink's build/output.js, the module instance Ink itself renders with (Ink's package exports only its
 * index, so it is found beside the index). The bundle of the CLI (scripts/bundle.js) puts in place of
 * this file a static import of the same output.js it bundles Ink with.
 */
export function loadInkOutputModule(): Promise<unknown> {
  const index = createRequire(import.meta.url).resolve('ink');
  return import(pathToFileURL(index.replace(/index\.js$/, 'output.js')).href);
}
