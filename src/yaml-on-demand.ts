import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';

/**
 * The yaml library, loaded on first use (its CommonJS build, synchronously): the commands that
 * read or print YAML pay for it, the console's start and `--version` do not.
 */
export function yaml(): typeof Yaml {
  return createRequire(import.meta.url)('yaml') as typeof Yaml;
}
