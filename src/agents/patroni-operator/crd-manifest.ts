import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { CRD_MANIFEST_PATH, postgresClusterCrd } from './crd.js';

/** The manifest's text: a header saying where it comes from, then the CRD as YAML. */
export function crdManifestYaml(): string {
  return `# Generated from src/agents/patroni-operator/crd.ts by \`npm run generate:crd\`: do not edit.\n${stringify(postgresClusterCrd())}`;
}

/** Writes the manifest under the working directory (the repository root). */
export function writeCrdManifest(): void {
  writeFileSync(CRD_MANIFEST_PATH, crdManifestYaml());
}
