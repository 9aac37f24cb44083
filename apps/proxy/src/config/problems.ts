/**
 * Validation results and readers for Envoy resource bodies in protobufjs
 * object form (camelCase fields, enums as strings, Duration as
 * `{ seconds, nanos }`, wrappers as `{ value }`, nested Any as
 * `{ '@type': ..., ...fields }`), as `decodeResource` from @weft/xds yields.
 *
 * Readers never throw: a value of the wrong shape adds a problem with its
 * field path and returns undefined, so one pass reports every problem.
 */

/** One reason a resource cannot be used, at a field path such as `virtualHosts[0].routes[2].match`. */
export interface Problem {
  readonly path: string;
  readonly message: string;
}

/** The outcome of compiling a resource: the runtime value, or every problem found. */
export type Compiled<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly problems: readonly Problem[] };

/** A loosely typed protobufjs object; every field is optional. */
export type Body = Readonly<Record<string, unknown>>;

/** Collects problems during one compile pass. */
export class ProblemList {
  readonly items: Problem[] = [];

  add(path: string, message: string): void {
    this.items.push({ path, message });
  }

  get empty(): boolean {
    return this.items.length === 0;
  }

  /** Wraps `value` as a success when no problem was added, else as a failure. */
  result<T>(value: T): Compiled<T> {
    return this.empty ? { ok: true, value } : { ok: false, problems: this.items };
  }
}

/** Renders problems as one NACK `error_detail` message. */
export function formatProblems(resourceName: string, problems: readonly Problem[]): string {
  return `${resourceName}: ${problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join('; ')}`;
}

/** Joins a field path. */
export function at(path: string, field: string | number): string {
  if (typeof field === 'number') return `${path}[${field}]`;
  return path ? `${path}.${field}` : field;
}

export function isBody(value: unknown): value is Body {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads an optional message field; a present non-object is a problem. */
export function readBody(parent: Body, field: string, path: string, problems: ProblemList): Body | undefined {
  const value = parent[field];
  if (value === undefined || value === null) return undefined;
  if (!isBody(value)) {
    problems.add(at(path, field), 'must be a message');
    return undefined;
  }
  return value;
}

/** Reads a repeated field (absent = empty). */
export function readList(
  parent: Body,
  field: string,
  path: string,
  problems: ProblemList,
): readonly unknown[] {
  const value = parent[field];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    problems.add(at(path, field), 'must be a list');
    return [];
  }
  return value;
}

/** Reads a repeated message field, skipping (and reporting) non-messages. */
export function readBodies(
  parent: Body,
  field: string,
  path: string,
  problems: ProblemList,
): Array<{ body: Body; path: string }> {
  const out: Array<{ body: Body; path: string }> = [];
  readList(parent, field, path, problems).forEach((item, i) => {
    if (isBody(item)) out.push({ body: item, path: at(at(path, field), i) });
    else problems.add(at(at(path, field), i), 'must be a message');
  });
  return out;
}

function readScalar<T>(
  parent: Body,
  field: string,
  path: string,
  problems: ProblemList,
  kind: 'string' | 'boolean',
): T | undefined {
  const value = parent[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== kind) {
    problems.add(at(path, field), `must be a ${kind}`);
    return undefined;
  }
  return value as T;
}

export function readString(
  parent: Body,
  field: string,
  path: string,
  problems: ProblemList,
): string | undefined {
  return readScalar<string>(parent, field, path, problems, 'string');
}

export function readBool(
  parent: Body,
  field: string,
  path: string,
  problems: ProblemList,
): boolean | undefined {
  return readScalar<boolean>(parent, field, path, problems, 'boolean');
}

export function readStrings(parent: Body, field: string, path: string, problems: ProblemList): string[] {
  const out: string[] = [];
  readList(parent, field, path, problems).forEach((item, i) => {
    if (typeof item === 'string') out.push(item);
    else problems.add(at(at(path, field), i), 'must be a string');
  });
  return out;
}

/** Converts a protobufjs integer (number, decimal string, or Long `{low, high}`) to a number. */
export function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value)) return Number(value);
  if (isBody(value) && typeof value.low === 'number' && typeof value.high === 'number') {
    const low = value.low >>> 0;
    return value.high * 2 ** 32 + low;
  }
  return undefined;
}

/** Reads a scalar integer field, checking `min <= n <= max`. */
export function readInt(
  parent: Body,
  field: string,
  path: string,
  problems: ProblemList,
  range: { min?: number; max?: number } = {},
): number | undefined {
  const raw = parent[field];
  if (raw === undefined || raw === null) return undefined;
  return checkInt(toNumber(raw), at(path, field), problems, range);
}

/** Reads a `google.protobuf.UInt32Value`-style wrapper `{ value }` (a bare number is accepted too). */
export function readWrappedInt(
  parent: Body,
  field: string,
  path: string,
  problems: ProblemList,
  range: { min?: number; max?: number } = {},
): number | undefined {
  const raw = parent[field];
  if (raw === undefined || raw === null) return undefined;
  const inner = isBody(raw) && !('low' in raw) ? (raw.value ?? 0) : raw;
  return checkInt(toNumber(inner), at(path, field), problems, range);
}

/** Reads a `google.protobuf.BoolValue`-style wrapper `{ value }` (a bare boolean is accepted too). */
export function readWrappedBool(
  parent: Body,
  field: string,
  path: string,
  problems: ProblemList,
): boolean | undefined {
  const raw = parent[field];
  if (raw === undefined || raw === null) return undefined;
  const inner = isBody(raw) ? (raw.value ?? false) : raw;
  if (typeof inner !== 'boolean') {
    problems.add(at(path, field), 'must be a boolean');
    return undefined;
  }
  return inner;
}

function checkInt(
  n: number | undefined,
  path: string,
  problems: ProblemList,
  range: { min?: number; max?: number },
): number | undefined {
  if (n === undefined || !Number.isInteger(n)) {
    problems.add(path, 'must be an integer');
    return undefined;
  }
  if (range.min !== undefined && n < range.min) {
    problems.add(path, `must be >= ${range.min}, got ${n}`);
    return undefined;
  }
  if (range.max !== undefined && n > range.max) {
    problems.add(path, `must be <= ${range.max}, got ${n}`);
    return undefined;
  }
  return n;
}

/**
 * Reads a `google.protobuf.Duration` as milliseconds: `{ seconds, nanos }`
 * (seconds may be a string or Long), or the JSON form `"1.5s"`.
 */
export function readDurationMs(
  parent: Body,
  field: string,
  path: string,
  problems: ProblemList,
): number | undefined {
  const raw = parent[field];
  if (raw === undefined || raw === null) return undefined;
  const fieldPath = at(path, field);
  let ms: number | undefined;
  if (typeof raw === 'string') {
    const m = /^(\d+(?:\.\d{1,9})?)s$/.exec(raw);
    ms = m ? Number(m[1]) * 1000 : undefined;
  } else if (isBody(raw)) {
    const seconds = raw.seconds === undefined ? 0 : toNumber(raw.seconds);
    const nanos = raw.nanos === undefined ? 0 : toNumber(raw.nanos);
    if (seconds !== undefined && nanos !== undefined && nanos >= 0 && nanos < 1e9)
      ms = seconds * 1000 + nanos / 1e6;
  }
  if (ms === undefined || !Number.isFinite(ms)) {
    problems.add(fieldPath, 'must be a Duration');
    return undefined;
  }
  if (ms < 0) {
    problems.add(fieldPath, 'must not be negative');
    return undefined;
  }
  return ms;
}

/** Reads an enum field given as a string name (or its number), checking it is one of `allowed`. */
export function readEnum<T extends string>(
  parent: Body,
  field: string,
  path: string,
  problems: ProblemList,
  allowed: readonly T[],
  byNumber: readonly string[] = [],
): T | undefined {
  const raw = parent[field];
  if (raw === undefined || raw === null) return undefined;
  const name = typeof raw === 'number' ? byNumber[raw] : raw;
  if (typeof name === 'string' && (allowed as readonly string[]).includes(name)) return name as T;
  problems.add(
    at(path, field),
    `unsupported value ${JSON.stringify(raw)} (supported: ${allowed.join(', ')})`,
  );
  return undefined;
}

/** The `@type` of a nested Any, without the `type.googleapis.com/` prefix. */
export function anyTypeName(value: Body | undefined): string | undefined {
  const type = value?.['@type'];
  if (typeof type !== 'string') return undefined;
  const slash = type.lastIndexOf('/');
  return slash >= 0 ? type.slice(slash + 1) : type;
}

/**
 * Compiles a `safe_regex` (RE2 syntax; the common subset is also valid in
 * JavaScript). `whole` anchors it, as Envoy requires a full match for paths
 * and header values.
 */
export function compileRegex(
  pattern: string,
  path: string,
  problems: ProblemList,
  whole = true,
): RegExp | undefined {
  try {
    return new RegExp(whole ? `^(?:${pattern})$` : pattern);
  } catch (error) {
    problems.add(path, `invalid regex: ${(error as Error).message}`);
    return undefined;
  }
}

/** Reads a `type.v3.FractionalPercent` or `type.v3.Percent` as a probability in [0, 1]. */
export function readFraction(
  parent: Body,
  field: string,
  path: string,
  problems: ProblemList,
): number | undefined {
  const body = readBody(parent, field, path, problems);
  if (!body) return undefined;
  const fieldPath = at(path, field);
  if ('value' in body) {
    const percent = toNumber(body.value);
    if (percent === undefined || percent < 0 || percent > 100) {
      problems.add(at(fieldPath, 'value'), 'must be a percentage between 0 and 100');
      return undefined;
    }
    return percent / 100;
  }
  const numerator = readInt(body, 'numerator', fieldPath, problems, { min: 0 }) ?? 0;
  const denominator = readEnum(
    body,
    'denominator',
    fieldPath,
    problems,
    ['HUNDRED', 'TEN_THOUSAND', 'MILLION'],
    ['HUNDRED', 'TEN_THOUSAND', 'MILLION'],
  );
  const scale = denominator === 'MILLION' ? 1e6 : denominator === 'TEN_THOUSAND' ? 1e4 : 100;
  return Math.min(1, numerator / scale);
}
