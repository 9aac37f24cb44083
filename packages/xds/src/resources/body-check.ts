/**
 * Strict shape check of a resource body against its proto message, before
 * protobufjs converts it (protobufjs silently drops unknown fields, which
 * would turn a typo into missing config).
 *
 * Collects every problem with its field path; never throws.
 */
import protobuf from 'protobufjs';

/** One problem in a resource body: where (`filterChains[0].filters[1].typedConfig.statPrefix`) and why. */
export interface BodyProblem {
  readonly path: string;
  readonly message: string;
}

const MAX_DEPTH = 64;
const INTEGER_TYPES = new Set(['int32', 'uint32', 'sint32', 'fixed32', 'sfixed32']);
const LONG_TYPES = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);
const FLOAT_TYPES = new Set(['double', 'float']);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)
  );
}

function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}

/** Checks `body` against `type`; returns every problem found (empty when the body is well-formed). */
export function checkBody(type: protobuf.Type, body: unknown): BodyProblem[] {
  const problems: BodyProblem[] = [];
  checkMessage(type, body, '', problems, 0, false);
  return problems;
}

function checkMessage(
  type: protobuf.Type,
  value: unknown,
  path: string,
  problems: BodyProblem[],
  depth: number,
  allowTypeKey: boolean,
): void {
  if (depth > MAX_DEPTH) {
    problems.push({ path, message: `nesting deeper than ${MAX_DEPTH}` });
    return;
  }
  if (type.fullName === '.google.protobuf.Struct') {
    if (!isPlainObject(value))
      problems.push({ path, message: 'expected a JSON object (google.protobuf.Struct)' });
    return;
  }
  if (type.fullName === '.google.protobuf.Any') {
    checkAny(type, value, path, problems, depth);
    return;
  }
  if (!isPlainObject(value)) {
    problems.push({ path, message: `expected an object (${type.fullName.slice(1)})` });
    return;
  }
  const oneofsSeen = new Map<string, string>();
  for (const [key, fieldValue] of Object.entries(value)) {
    if (key === '@type' && allowTypeKey) continue;
    const field = type.fields[key];
    const fieldPath = join(path, key);
    if (!field) {
      problems.push({ path: fieldPath, message: `unknown field of ${type.fullName.slice(1)}` });
      continue;
    }
    if (fieldValue === undefined || fieldValue === null) continue;
    if (field.partOf) {
      const other = oneofsSeen.get(field.partOf.name);
      if (other !== undefined) {
        problems.push({ path: fieldPath, message: `oneof ${field.partOf.name} already set by ${other}` });
      }
      oneofsSeen.set(field.partOf.name, key);
    }
    checkField(field, fieldValue, fieldPath, problems, depth);
  }
}

function checkAny(
  anyType: protobuf.Type,
  value: unknown,
  path: string,
  problems: BodyProblem[],
  depth: number,
): void {
  if (!isPlainObject(value)) {
    problems.push({ path, message: 'expected an object with @type (google.protobuf.Any)' });
    return;
  }
  const typeUrl = value['@type'];
  if (typeof typeUrl !== 'string' || typeUrl === '') {
    if (value.value instanceof Uint8Array && typeof value.typeUrl === 'string') return;
    problems.push({ path: join(path, '@type'), message: 'missing @type' });
    return;
  }
  const name = typeUrl.slice(typeUrl.lastIndexOf('/') + 1);
  let inner: protobuf.Type | undefined;
  try {
    inner = anyType.root.lookupType(name);
  } catch {
    inner = undefined;
  }
  if (!inner) {
    problems.push({ path: join(path, '@type'), message: `unknown message type ${typeUrl}` });
    return;
  }
  checkMessage(inner, value, path, problems, depth + 1, true);
}

function checkField(
  field: protobuf.Field,
  value: unknown,
  path: string,
  problems: BodyProblem[],
  depth: number,
): void {
  if (field.map) {
    if (!isPlainObject(value)) {
      problems.push({ path, message: 'expected an object (map)' });
      return;
    }
    for (const [key, entry] of Object.entries(value))
      checkSingle(field, entry, join(path, key), problems, depth);
    return;
  }
  if (field.repeated) {
    if (!Array.isArray(value)) {
      problems.push({ path, message: 'expected an array (repeated field)' });
      return;
    }
    value.forEach((entry, index) => {
      checkSingle(field, entry, join(path, index), problems, depth);
    });
    return;
  }
  checkSingle(field, value, path, problems, depth);
}

function checkSingle(
  field: protobuf.Field,
  value: unknown,
  path: string,
  problems: BodyProblem[],
  depth: number,
): void {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) {
    checkMessage(resolved, value, path, problems, depth + 1, false);
    return;
  }
  if (resolved instanceof protobuf.Enum) {
    const known =
      (typeof value === 'string' && value in resolved.values) ||
      (typeof value === 'number' && Object.values(resolved.values).includes(value));
    if (!known) {
      const names = Object.keys(resolved.values).join(', ');
      problems.push({
        path,
        message: `unknown ${resolved.name} value ${JSON.stringify(value)} (one of ${names})`,
      });
    }
    return;
  }
  const message = scalarProblem(field.type, value);
  if (message) problems.push({ path, message });
}

function scalarProblem(type: string, value: unknown): string | undefined {
  if (type === 'string') return typeof value === 'string' ? undefined : 'expected a string';
  if (type === 'bool') return typeof value === 'boolean' ? undefined : 'expected a boolean';
  if (type === 'bytes') {
    return value instanceof Uint8Array || typeof value === 'string' ? undefined : 'expected bytes or base64';
  }
  if (FLOAT_TYPES.has(type)) return typeof value === 'number' ? undefined : 'expected a number';
  if (INTEGER_TYPES.has(type)) {
    if (typeof value !== 'number' || !Number.isInteger(value)) return 'expected an integer';
    if (type.startsWith('u') || type === 'fixed32')
      return value >= 0 ? undefined : 'expected a non-negative integer';
    return undefined;
  }
  if (LONG_TYPES.has(type)) {
    if (typeof value === 'number' && Number.isInteger(value)) return undefined;
    if (typeof value === 'string' && /^-?\d+$/.test(value)) return undefined;
    return 'expected an integer (number or decimal string)';
  }
  return undefined;
}
