/**
 * Real-world Istio YAML (written after Istio's documentation and the
 * bookinfo sample) loads unchanged; mixed directories report precisely.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildMeshModel, defaultMeshConfig, formatProblem, loadConfigPaths } from '../src/index.ts';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const relative = (line: string) => line.replaceAll(`${here('fixtures')}/`, '');

describe('loadConfigPaths', () => {
  it('loads the documentation examples of every kind without problems', async () => {
    const { objects, problems } = await loadConfigPaths([here('fixtures/istio-docs')]);
    expect(problems.filter((p) => p.severity === 'error').map(formatProblem)).toEqual([]);
    const kinds = new Set(objects.map((o) => o.kind));
    expect([...kinds].sort()).toEqual([
      'AuthorizationPolicy',
      'DestinationRule',
      'Gateway',
      'PeerAuthentication',
      'RequestAuthentication',
      'ServiceEntry',
      'Sidecar',
      'VirtualService',
      'WorkloadEntry',
    ]);
    expect(objects).toHaveLength(31);
  });

  it('loads the bookinfo example unchanged with no problem at all', async () => {
    const { objects, problems } = await loadConfigPaths([here('../../../examples')]);
    expect(problems.map(formatProblem)).toEqual([]);
    const mesh = buildMeshModel(objects, defaultMeshConfig());
    expect(mesh.services.map((s) => s.hostname)).toEqual([
      'details.default.svc.cluster.local',
      'productpage.default.svc.cluster.local',
      'ratings.default.svc.cluster.local',
      'reviews.default.svc.cluster.local',
    ]);
    expect(
      mesh
        .endpoints('reviews.default.svc.cluster.local', 9080)
        .map((e) => `${e.address}:${e.port} ${e.labels.version}`),
    ).toEqual(['127.0.0.4:9080 v1', '127.0.0.5:9080 v2', '127.0.0.6:9080 v3']);
  });

  it('reports one precise line per problem in a mixed directory, in file order', async () => {
    // Broken YAML is written at test time: the linter checks the YAML files in the repository.
    const dir = await mkdtemp(join(tmpdir(), 'weft-mixed-'));
    const broken = join(dir, 'broken.yaml');
    await writeFile(broken, 'apiVersion: v1\nkind: "unterminated\n');
    const { objects, problems } = await loadConfigPaths([
      here('fixtures/mixed'),
      broken,
      here('fixtures/missing.yaml'),
    ]);
    await rm(dir, { recursive: true });
    expect(objects.map((o) => `${o.kind} ${o.metadata.name}`)).toEqual([
      'DestinationRule reviews',
      'VirtualService ratings',
    ]);
    expect(problems.map((p) => `${p.severity} ${relative(formatProblem(p))}`)).toEqual([
      'error mixed/nested/bad-route.yml:18 VirtualService default/reviews: spec.http[0].route[1].weight: -50 out of range: must be >= 0',
      `error ${broken}:3: YAML syntax error: Missing closing "quote`,
      'error missing.yaml: cannot read: no such file or directory',
      'warning mixed/nested/bad-route.yml:31 VirtualService default/ratings: spec.http[0].route[0].destination.subset: subset "v2" of ratings.default.svc.cluster.local is not defined by any DestinationRule',
    ]);
  });
});
