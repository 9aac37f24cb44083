/**
 * Offline validation of Kubernetes manifests:
 *
 * - Built-in kinds against the Kubernetes OpenAPI schemas shipped by
 *   `kubernetes-models` (no cluster, no download), plus fields the API does
 *   not define (from @kubernetes/client-node's model classes).
 * - Custom resources (the Istio kinds) against their CRD's
 *   `openAPIV3Schema` (ajv), including the fields the API server would prune
 *   (unknown fields where the schema does not keep them), and against
 *   @weft/config's validation (the same messages `weft analyze` and the
 *   validating webhook give).
 * - CRD schemas for the structural rules Kubernetes enforces: every node
 *   has a type, unless it keeps unknown fields or is int-or-string.
 */
import { parseConfigYaml } from '@weft/config';
import { Ajv, type ValidateFunction } from 'ajv';
import { stringify } from 'yaml';
import type { SchemaNode } from './crd-schemas.ts';
import type { Manifest } from './load-manifests.ts';
import { unknownFields } from './unknown-fields.ts';

export interface Finding {
  path: string;
  message: string;
}

type ModelClass = new (data: unknown) => { validate(): void };

const modelModules = new Map<string, Promise<Record<string, unknown> | undefined>>();

function modelModule(apiVersion: string): Promise<Record<string, unknown> | undefined> {
  let loaded = modelModules.get(apiVersion);
  if (!loaded) {
    loaded = import(`kubernetes-models/${apiVersion}`).then(
      (module: Record<string, unknown>) => module,
      () => undefined,
    );
    modelModules.set(apiVersion, loaded);
  }
  return loaded;
}

function withoutFile(manifest: Manifest): Record<string, unknown> {
  const { file: _file, ...object } = manifest;
  return object;
}

/** Whether `kubernetes-models` knows this apiVersion and kind (a built-in Kubernetes kind). */
export async function isBuiltIn(manifest: Pick<Manifest, 'apiVersion' | 'kind'>): Promise<boolean> {
  const module = await modelModule(manifest.apiVersion);
  return typeof module?.[manifest.kind] === 'function';
}

/**
 * Validates a built-in kind against the Kubernetes OpenAPI schema, and
 * reports fields the API does not define (as `kubectl apply` does); [] when valid.
 */
export async function validateBuiltIn(manifest: Manifest): Promise<Finding[]> {
  const module = await modelModule(manifest.apiVersion);
  const Model = module?.[manifest.kind] as ModelClass | undefined;
  if (!Model)
    return [{ path: '', message: `${manifest.apiVersion} ${manifest.kind} is not a built-in kind` }];
  const object = withoutFile(manifest) as Parameters<typeof unknownFields>[0];
  try {
    new Model(object).validate();
    return unknownFields(object);
  } catch (error) {
    const details = (error as { errors?: { instancePath?: string; message?: string }[] }).errors;
    if (details && details.length > 0) {
      return details.map((d) => ({ path: d.instancePath ?? '', message: d.message ?? 'invalid' }));
    }
    return [{ path: '', message: (error as Error).message }];
  }
}

interface CrdVersion {
  name: string;
  served: boolean;
  storage: boolean;
  schema?: { openAPIV3Schema?: SchemaNode };
}

interface CrdSpec {
  group: string;
  names: { kind: string; plural: string };
  versions: CrdVersion[];
}

const ajv = new Ajv({ strict: false, allErrors: true });
const compiled = new WeakMap<SchemaNode, ValidateFunction>();

/** The CRD (among `crds`) that serves `apiVersion`/`kind`, and that version's schema. */
export function crdFor(
  manifest: Pick<Manifest, 'apiVersion' | 'kind'>,
  crds: readonly Manifest[],
): { crd: Manifest; schema: SchemaNode } | undefined {
  const [group, version] = manifest.apiVersion.split('/');
  for (const crd of crds) {
    const spec = crd.spec as CrdSpec;
    if (spec.group !== group || spec.names.kind !== manifest.kind) continue;
    const served = spec.versions.find((v) => v.name === version && v.served);
    const schema = served?.schema?.openAPIV3Schema;
    if (schema) return { crd, schema };
  }
  return undefined;
}

/** Fields under `node` that the API server would drop (not in the schema, unknown fields not kept). */
export function prunedFields(value: unknown, node: SchemaNode, path: string): Finding[] {
  if (node['x-kubernetes-preserve-unknown-fields'] && !node.properties) return [];
  if (Array.isArray(value)) {
    return node.items ? value.flatMap((item, i) => prunedFields(item, node.items!, `${path}/${i}`)) : [];
  }
  if (value === null || typeof value !== 'object') return [];
  const findings: Finding[] = [];
  for (const [key, child] of Object.entries(value)) {
    const childNode = node.properties?.[key] ?? node.additionalProperties;
    if (childNode) findings.push(...prunedFields(child, childNode, `${path}/${key}`));
    else if (!node['x-kubernetes-preserve-unknown-fields']) {
      findings.push({ path: `${path}/${key}`, message: 'unknown field: the API server would drop it' });
    }
  }
  return findings;
}

/** Validates a custom resource against the CRD that serves it and against @weft/config. */
export function validateCustomResource(manifest: Manifest, crds: readonly Manifest[]): Finding[] {
  const found = crdFor(manifest, crds);
  if (!found)
    return [{ path: '', message: `no CRD in deploy/ serves ${manifest.apiVersion} ${manifest.kind}` }];
  let validate = compiled.get(found.schema);
  if (!validate) {
    validate = ajv.compile(found.schema);
    compiled.set(found.schema, validate);
  }
  const object = withoutFile(manifest);
  const findings: Finding[] = [];
  if (!validate(object)) {
    for (const e of validate.errors ?? [])
      findings.push({ path: e.instancePath, message: e.message ?? 'invalid' });
  }
  const { metadata: _m, apiVersion: _a, kind: _k, ...rest } = object;
  findings.push(...prunedFields(rest, found.schema, ''));
  const parsed = parseConfigYaml(stringify(object), manifest.file);
  for (const problem of parsed.problems) {
    if (problem.severity === 'error')
      findings.push({ path: problem.path, message: `@weft/config: ${problem.message}` });
  }
  return findings;
}

/** Structural-schema rules for a CRD's openAPIV3Schema (what the API server refuses). */
export function structuralProblems(node: SchemaNode, path = ''): Finding[] {
  const findings: Finding[] = [];
  const keeps = node['x-kubernetes-preserve-unknown-fields'] || node['x-kubernetes-int-or-string'];
  if (!node.type && !keeps) findings.push({ path, message: 'has no type' });
  if (node.type === 'array' && !node.items) findings.push({ path, message: 'array without items' });
  if (node.properties && node.additionalProperties) {
    findings.push({ path, message: 'properties and additionalProperties together' });
  }
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    findings.push(...structuralProblems(child, `${path}.properties.${key}`));
  }
  if (node.items) findings.push(...structuralProblems(node.items, `${path}.items`));
  if (node.additionalProperties)
    findings.push(...structuralProblems(node.additionalProperties, `${path}.additionalProperties`));
  for (const required of node.required ?? []) {
    if (!node.properties?.[required])
      findings.push({ path, message: `required ${required} is not a property` });
  }
  return findings;
}
