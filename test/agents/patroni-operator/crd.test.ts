import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { crdManifestYaml } from '../../../src/agents/patroni-operator/crd-manifest.js';
import { CRD_MANIFEST_PATH, postgresClusterCrd } from '../../../src/agents/patroni-operator/crd.js';

describe('the PostgresCluster CRD', () => {
  it('the manifest in the repository is the one generated from the schema (npm run generate:crd)', () => {
    expect(readFileSync(CRD_MANIFEST_PATH, 'utf8')).toBe(crdManifestYaml());
  });

  it('declares the short name, the status and scale subresources and the printer columns', () => {
    const spec = postgresClusterCrd().spec as {
      names: { shortNames: string[] };
      versions: { subresources: unknown; additionalPrinterColumns: { name: string }[] }[];
    };
    expect(spec.names.shortNames).toEqual(['pgc']);
    expect(spec.versions[0]?.subresources).toEqual({
      status: {},
      scale: {
        specReplicasPath: '.spec.replicas',
        statusReplicasPath: '.status.replicas',
        labelSelectorPath: '.status.selector',
      },
    });
    expect(spec.versions[0]?.additionalPrinterColumns.map((c) => c.name)).toEqual([
      'Phase',
      'Ready',
      'Replicas',
      'Primary',
      'Version',
      'Age',
    ]);
  });
});
