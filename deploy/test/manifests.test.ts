/**
 * Every manifest under deploy/ parses, renders through its kustomization,
 * and validates offline: built-in kinds against the Kubernetes OpenAPI
 * schemas (kubernetes-models), Istio custom resources against their CRD's
 * schema and @weft/config. Negative controls prove the validators reject.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { GROUP_VERSIONS, ISTIO_KINDS } from '../src/crd-schemas.ts';
import { describeManifest, loadFile, type Manifest } from '../src/load-manifests.ts';
import { renderCrdFile } from '../src/render-crds.ts';
import {
  isBuiltIn,
  structuralProblems,
  validateBuiltIn,
  validateCustomResource,
} from '../src/validate-manifests.ts';
import {
  allRendered,
  DEPLOY_DIR,
  KUSTOMIZATIONS,
  NOT_MANIFESTS,
  ofKind,
  rendered,
  rows,
  yamlFiles,
} from './deploy-fixtures.ts';

const crds = ofKind('CustomResourceDefinition');
const builtIns: Manifest[] = [];
const customResources: Manifest[] = [];
for (const manifest of allRendered) {
  if (await isBuiltIn(manifest)) builtIns.push(manifest);
  else customResources.push(manifest);
}

describe('files and kustomizations', () => {
  it.each(yamlFiles())('%s parses as YAML', (file) => {
    const docs = parseAllDocuments(readFileSync(join(DEPLOY_DIR, file), 'utf8'));
    expect(docs.flatMap((d) => d.errors.map((e) => e.message))).toEqual([]);
  });

  it.each(KUSTOMIZATIONS)('%s renders with no problem', (dir) => {
    expect(rendered[dir].problems).toEqual([]);
    expect(rendered[dir].manifests.length).toBeGreaterThan(0);
  });

  it('every manifest file is applied by exactly one kustomization', () => {
    const applied = allRendered.map((m) => m.file);
    const manifestFiles = yamlFiles().filter(
      (f) => !NOT_MANIFESTS.has(f) && !f.endsWith('kustomization.yaml'),
    );
    for (const file of manifestFiles) {
      const owners = KUSTOMIZATIONS.filter((dir) => rendered[dir].manifests.some((m) => m.file === file));
      expect({ file, owners: owners.length }).toEqual({ file, owners: 1 });
    }
    expect(new Set(applied)).toEqual(new Set(manifestFiles));
  });

  it('no two objects share kind, namespace and name', () => {
    const keys = allRendered.map(describeManifest);
    expect(keys.filter((k, i) => keys.indexOf(k) !== i)).toEqual([]);
  });

  it('kubectl kustomize renders the same objects (when kubectl is installed)', (ctx) => {
    const probe = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
    if (probe.status !== 0) {
      ctx.skip('kubectl is not installed; the built-in renderer was checked alone');
      return;
    }
    for (const dir of KUSTOMIZATIONS) {
      const out = spawnSync('kubectl', ['kustomize', join(DEPLOY_DIR, dir)], { encoding: 'utf8' });
      expect(out.stderr).toBe('');
      const theirs = parseAllDocuments(out.stdout).map((d) => d.toJS() as Manifest);
      const key = (m: Manifest) => describeManifest(m);
      const ours = new Map(rendered[dir].manifests.map((m) => [key(m), { ...m, file: undefined }]));
      expect(new Set(theirs.map(key))).toEqual(new Set(ours.keys()));
      for (const object of theirs) {
        expect(object).toEqual(JSON.parse(JSON.stringify(ours.get(key(object)))));
      }
    }
  });
});

describe('built-in kinds against the Kubernetes OpenAPI schemas', () => {
  it.each(rows(builtIns))('$name', async ({ manifest }) => {
    expect(await validateBuiltIn(manifest)).toEqual([]);
  });

  it.each([
    {
      name: 'replicas as a string',
      edit: (d: Manifest) => ((d.spec as { replicas: unknown }).replicas = 'two'),
    },
    { name: 'no selector', edit: (d: Manifest) => delete (d.spec as { selector?: unknown }).selector },
    {
      name: 'a misspelled container field',
      edit: (d: Manifest) => {
        const spec = d.spec as { template: { spec: { containers: Record<string, unknown>[] } } };
        spec.template.spec.containers[0]!.readinesProbe = {};
      },
    },
  ])('rejects a Deployment with $name (negative control)', async ({ edit }) => {
    const deployment = structuredClone(builtIns.find((m) => m.kind === 'Deployment')!);
    edit(deployment);
    expect(await validateBuiltIn(deployment)).not.toEqual([]);
  });
});

it('names a misspelled field with its path, as kubectl apply would refuse it', async () => {
  const service = structuredClone(builtIns.find((m) => m.kind === 'Service')!);
  (service.spec as { ports: Record<string, unknown>[] }).ports[0]!.targetPrt = 80;
  expect(await validateBuiltIn(service)).toEqual([
    { path: '/spec/ports/0/targetPrt', message: 'unknown field "targetPrt"' },
  ]);
});

describe('Istio resources against their CRDs and @weft/config', () => {
  it('deploy/ holds Istio resources to check', () => {
    expect(customResources.map((m) => m.kind).sort()).toEqual([
      'DestinationRule',
      'DestinationRule',
      'DestinationRule',
      'DestinationRule',
      'Gateway',
      'VirtualService',
      'VirtualService',
    ]);
  });

  it.each(rows(customResources))('$name', ({ manifest }) => {
    expect(validateCustomResource(manifest, crds)).toEqual([]);
  });

  const virtualService = (): Manifest =>
    structuredClone(customResources.find((m) => m.kind === 'VirtualService')!);
  it.each([
    {
      name: 'hosts as a string (CRD schema)',
      edit: (m: Manifest) => ((m.spec as { hosts: unknown }).hosts = 'reviews'),
      message: 'must be array',
    },
    {
      name: 'a negative weight (@weft/config)',
      edit: (m: Manifest) => {
        (m.spec as { http: { route: { weight?: number }[] }[] }).http = [
          { route: [{ destination: { host: 'reviews' }, weight: -5 } as never] },
        ];
      },
      message: '@weft/config: -5 out of range: must be >= 0',
    },
    {
      name: 'an unserved apiVersion',
      edit: (m: Manifest) => (m.apiVersion = 'networking.istio.io/v2'),
      message: 'no CRD in deploy/ serves networking.istio.io/v2 VirtualService',
    },
  ])('rejects a VirtualService with $name (negative control)', ({ edit, message }) => {
    const broken = virtualService();
    edit(broken);
    const findings = validateCustomResource(broken, crds);
    expect(findings.map((f) => f.message).join('\n')).toContain(message);
  });

  it('reports a field the API server would prune', () => {
    const broken = structuredClone(customResources.find((m) => m.kind === 'Gateway')!);
    (broken.spec as { servers: { port: Record<string, unknown> }[] }).servers[0]!.port.nubmer = 80;
    expect(validateCustomResource(broken, crds)).toContainEqual({
      path: '/spec/servers/0/port/nubmer',
      message: 'unknown field: the API server would drop it',
    });
  });
});

describe('Istio CRDs', () => {
  it('crds/istio-crds.yaml is the output of src/render-crds.ts (run npm run generate -w deploy)', () => {
    expect(readFileSync(join(DEPLOY_DIR, 'kubernetes/crds/istio-crds.yaml'), 'utf8')).toBe(renderCrdFile());
  });

  it.each(ISTIO_KINDS.map((k) => ({ name: `${k.kind}.${k.group}`, kind: k })))(
    '$name: served at every Istio version, stored at v1, structural',
    ({ kind }) => {
      const crd = crds.find((c) => c.metadata.name === `${kind.plural}.${kind.group}`)!;
      const versions = (
        crd.spec as { versions: { name: string; served: boolean; storage: boolean; schema: never }[] }
      ).versions;
      expect(versions.map((v) => v.name)).toEqual(GROUP_VERSIONS[kind.group]);
      expect(versions.every((v) => v.served)).toBe(true);
      expect(versions.filter((v) => v.storage).map((v) => v.name)).toEqual(['v1']);
      for (const v of versions) {
        expect(structuralProblems((v.schema as { openAPIV3Schema: never }).openAPIV3Schema)).toEqual([]);
      }
    },
  );

  it('structuralProblems finds an untyped node (negative control)', () => {
    expect(structuralProblems({ type: 'object', properties: { x: {} } })).toEqual([
      { path: '.properties.x', message: 'has no type' },
    ]);
  });
});

describe('kind cluster config', () => {
  it('maps the gateway NodePort to the host', () => {
    const config = loadFile(join(DEPLOY_DIR, 'kind/kind-config.yaml'), DEPLOY_DIR).manifests[0]!;
    expect(config).toMatchObject({ apiVersion: 'kind.x-k8s.io/v1alpha4', kind: 'Cluster' });
    const gateway = allRendered.find(
      (m) => m.kind === 'Service' && m.metadata.name === 'weft-ingressgateway',
    )!;
    const nodePort = (gateway.spec as { ports: { nodePort: number }[] }).ports[0]!.nodePort;
    const mapping = parse(readFileSync(join(DEPLOY_DIR, 'kind/kind-config.yaml'), 'utf8')).nodes[0]
      .extraPortMappings[0];
    expect(mapping).toMatchObject({ containerPort: nodePort, hostPort: 8080 });
  });
});
