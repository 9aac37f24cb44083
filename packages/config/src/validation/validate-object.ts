/**
 * Validation of one resource: envelope (apiVersion, kind, metadata), spec
 * schema, then the kind's semantic checks. Never throws.
 */
import { isKind, KINDS } from '../kinds/kinds.ts';
import type { ConfigObject, Kind, ObjectMeta, SourceRef, SpecOf } from '../resources/resource-types.ts';
import { isDns1123Label, isDns1123Subdomain } from '../schema/checks.ts';
import { collectInto, type Finding } from '../schema/reporter.ts';
import { any, integer, object, string, stringMap } from '../schema/schema.ts';
import { isPlainObject, walkSchema } from '../schema/walk-schema.ts';
import type { Problem } from './problem.ts';

/** Maps a field path of the object to the 1-based line it was written on, when known. */
export type LineLocator = (path: string) => number | undefined;

const KNOWN_KINDS = Object.keys(KINDS).join(', ');

const metadataSchema = object(
  {
    name: string(),
    namespace: string(),
    labels: stringMap(),
    annotations: stringMap(),
    resourceVersion: string(),
    generation: integer({ min: 0 }),
    uid: any(),
    creationTimestamp: any(),
    deletionTimestamp: any(),
    deletionGracePeriodSeconds: any(),
    generateName: any(),
    managedFields: any(),
    ownerReferences: any(),
    finalizers: any(),
    selfLink: any(),
  },
  { required: ['name'] },
);

/**
 * API groups of Istio mesh configuration: an unsupported kind there is an
 * error (the user expects it to take effect). Other groups, including
 * install.istio.io and the Kubernetes Gateway API, are skipped with a warning.
 */
const ISTIO_CONFIG_GROUPS = new Set([
  'networking.istio.io',
  'security.istio.io',
  'telemetry.istio.io',
  'extensions.istio.io',
]);

const TOP_LEVEL = new Set(['apiVersion', 'kind', 'metadata', 'spec', 'status']);

/** The identity of an object whose envelope could be read, even if its spec is invalid. */
export interface ObjectIdentity {
  kind: Kind;
  namespace: string;
  name: string;
}

export interface ValidationResult {
  object?: ConfigObject;
  problems: Problem[];
  /** Set when kind, name and namespace could be read, valid or not. */
  identity?: ObjectIdentity;
  /** True when the document is not an Istio resource Weft reads (skipped with a warning). */
  foreign?: boolean;
}

/**
 * Validates one parsed resource. `object` is set only when there are no
 * errors (warnings allowed); problems carry `source` with the line of the
 * offending field when `locate` knows it, else the object's line.
 */
export function validateObject(
  obj: unknown,
  source?: SourceRef,
): { object?: ConfigObject; problems: Problem[] } {
  const { object: validated, problems } = validateObjectAt(obj, source);
  return validated ? { object: validated, problems } : { problems };
}

/** `validateObject` with a line locator and the object's identity, for loaders. */
export function validateObjectAt(obj: unknown, source?: SourceRef, locate?: LineLocator): ValidationResult {
  const findings: Finding[] = [];
  const report = collectInto(findings);
  const header: { kind?: string; namespace?: string; name?: string } = {};
  const finish = (result: Omit<ValidationResult, 'problems'>): ValidationResult => ({
    ...result,
    problems: findings.map((f) => toProblem(f, header, source, locate)),
  });

  if (!isPlainObject(obj)) {
    report.error('', 'expected a YAML mapping with apiVersion, kind, metadata and spec');
    return finish({});
  }
  const { apiVersion, kind } = obj;
  if ((apiVersion === undefined || apiVersion === null) && (kind === undefined || kind === null)) {
    report.warning('', 'not a Kubernetes resource (no apiVersion or kind); skipped');
    return finish({ foreign: true });
  }
  if (typeof apiVersion !== 'string' || apiVersion === '') report.error('apiVersion', 'required');
  if (typeof kind !== 'string' || kind === '') report.error('kind', 'required');
  if (typeof apiVersion !== 'string' || typeof kind !== 'string' || !apiVersion || !kind) return finish({});
  header.kind = kind;
  const meta = isPlainObject(obj.metadata) ? obj.metadata : {};
  if (typeof meta.name === 'string') header.name = meta.name;
  header.namespace = typeof meta.namespace === 'string' && meta.namespace !== '' ? meta.namespace : 'default';

  const slash = apiVersion.indexOf('/');
  const group = slash === -1 ? '' : apiVersion.slice(0, slash);
  const version = slash === -1 ? apiVersion : apiVersion.slice(slash + 1);
  if (!ISTIO_CONFIG_GROUPS.has(group)) {
    report.warning('', `not an Istio resource Weft reads (${apiVersion} ${kind}); skipped`);
    return finish({ foreign: true });
  }
  if (!isKind(kind)) {
    report.error('kind', `${kind} (${apiVersion}) is not supported by Weft; supported kinds: ${KNOWN_KINDS}`);
    return finish({});
  }
  const definition = KINDS[kind];
  if (group !== definition.group) {
    report.error(
      'apiVersion',
      `${kind} belongs to ${definition.group}, not ${JSON.stringify(group || apiVersion)}`,
    );
  } else if (!definition.versions.includes(version)) {
    report.error(
      'apiVersion',
      `unsupported version ${JSON.stringify(version)} of ${group}; accepted: ${definition.versions.join(', ')}`,
    );
  }

  for (const key of Object.keys(obj)) {
    if (!TOP_LEVEL.has(key)) report.error(key, 'unknown field');
  }
  const metadata = walkMetadata(obj.metadata, report);
  const identity =
    header.name === undefined ? undefined : { kind, namespace: header.namespace, name: header.name };
  const spec = obj.spec === undefined || obj.spec === null ? {} : obj.spec;
  const before = errorCount(findings);
  const walked = walkSchema(definition.spec, spec, 'spec', report);
  if (errorCount(findings) === before && walked !== undefined && metadata) {
    // The kind registry pairs each kind with its own spec schema and checks.
    const semantic = definition.semantic as
      | ((s: unknown, c: { namespace: string; report: typeof report }) => void)
      | undefined;
    semantic?.(walked, { namespace: metadata.namespace, report });
  }
  if (errorCount(findings) > 0 || !metadata || walked === undefined)
    return finish(identity ? { identity } : {});
  const validated: ConfigObject = {
    apiVersion,
    kind,
    metadata,
    spec: walked as SpecOf<typeof kind>,
    ...(source ? { source } : {}),
  };
  return finish({ object: validated, ...(identity ? { identity } : {}) });
}

function walkMetadata(value: unknown, report: ReturnType<typeof collectInto>): ObjectMeta | undefined {
  if (value === undefined || value === null) {
    report.error('metadata.name', 'required');
    return undefined;
  }
  const walked = walkSchema(metadataSchema, value, 'metadata', report);
  if (!isPlainObject(walked) || typeof walked.name !== 'string') return undefined;
  const name = walked.name;
  if (!isDns1123Subdomain(name)) {
    report.error(
      'metadata.name',
      `${JSON.stringify(name)} must be a DNS-1123 subdomain (lowercase letters, digits, '-' and '.')`,
    );
    return undefined;
  }
  const namespace =
    typeof walked.namespace === 'string' && walked.namespace !== '' ? walked.namespace : 'default';
  if (!isDns1123Label(namespace)) {
    report.error('metadata.namespace', `${JSON.stringify(namespace)} must be a DNS-1123 label`);
    return undefined;
  }
  const meta: ObjectMeta = { name, namespace };
  if (walked.labels) meta.labels = walked.labels as Record<string, string>;
  if (walked.annotations) meta.annotations = walked.annotations as Record<string, string>;
  if (typeof walked.resourceVersion === 'string') meta.resourceVersion = walked.resourceVersion;
  if (typeof walked.generation === 'number') meta.generation = walked.generation;
  return meta;
}

function errorCount(findings: readonly Finding[]): number {
  return findings.filter((f) => f.severity === 'error').length;
}

function toProblem(
  finding: Finding,
  header: { kind?: string; namespace?: string; name?: string },
  source: SourceRef | undefined,
  locate: LineLocator | undefined,
): Problem {
  const problem: Problem = { severity: finding.severity, path: finding.path, message: finding.message };
  if (source) problem.source = { file: source.file, line: locate?.(finding.path) ?? source.line };
  if (header.kind) problem.kind = header.kind;
  if (header.name !== undefined) {
    problem.name = header.name;
    if (header.namespace) problem.namespace = header.namespace;
  }
  return problem;
}
