/**
 * Checks a parsed YAML value against a schema and returns a normalized copy:
 * known fields only, `null` treated as absent (as Kubernetes prunes it).
 * Every finding carries its field path. Never throws.
 */
import { parseDuration } from './duration.ts';
import { childPath, indexPath, type Reporter } from './reporter.ts';
import type { ObjectSchema, Schema } from './schema.ts';

export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'object') return 'object';
  return typeof value;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function expected(path: string, what: string, value: unknown, report: Reporter): undefined {
  report.error(path, `expected ${what}, got ${typeName(value)}`);
  return undefined;
}

/** Walks `value` (never null here) against `schema`; undefined when the value is rejected. */
export function walkSchema(schema: Schema, value: unknown, path: string, report: Reporter): unknown {
  if (schema.ignored) report.warning(path, `accepted but ignored by Weft: ${schema.ignored}`);
  if (schema.deprecated) report.warning(path, `deprecated: ${schema.deprecated}`);
  switch (schema.type) {
    case 'any':
      return value;
    case 'string': {
      if (typeof value !== 'string') return expected(path, 'a string', value, report);
      if (schema.enum && !schema.enum.includes(value)) {
        report.error(
          path,
          `unknown value ${JSON.stringify(value)}; expected one of ${schema.enum.join(', ')}`,
        );
        return undefined;
      }
      if (schema.nonEmpty && value === '') {
        report.error(path, 'must not be empty');
        return undefined;
      }
      schema.check?.(value, path, report);
      return value;
    }
    case 'integer':
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value))
        return expected(path, `an ${schema.type}`, value, report);
      if (schema.type === 'integer' && !Number.isInteger(value))
        return expected(path, 'an integer', value, report);
      if (
        (schema.min !== undefined && value < schema.min) ||
        (schema.max !== undefined && value > schema.max)
      ) {
        const range =
          schema.max === undefined
            ? `>= ${schema.min}`
            : schema.min === undefined
              ? `<= ${schema.max}`
              : `in ${schema.min}..${schema.max}`;
        report.error(path, `${value} out of range: must be ${range}`);
        return undefined;
      }
      schema.check?.(value, path, report);
      return value;
    }
    case 'boolean': {
      if (typeof value !== 'boolean') return expected(path, 'true or false', value, report);
      schema.check?.(value, path, report);
      return value;
    }
    case 'duration': {
      if (typeof value !== 'string') return expected(path, 'a duration string such as "5s"', value, report);
      const ms = parseDuration(value);
      if (ms === undefined) {
        report.error(
          path,
          `invalid duration ${JSON.stringify(value)}: use a number with a unit (ms, s, m, h), e.g. "1.5s"`,
        );
        return undefined;
      }
      if (schema.minMs !== undefined && ms < schema.minMs) {
        report.error(path, `duration ${value} is too short: must be at least ${schema.minMs}ms`);
        return undefined;
      }
      schema.check?.(ms, path, report);
      return value;
    }
    case 'array': {
      if (!Array.isArray(value)) return expected(path, 'a list', value, report);
      if (schema.nonEmpty && value.length === 0) report.error(path, 'must not be empty');
      const out: unknown[] = [];
      value.forEach((item, i) => {
        const itemPath = indexPath(path, i);
        if (item === null || item === undefined) {
          report.error(itemPath, 'must not be null');
          return;
        }
        const walked = walkSchema(schema.items, item, itemPath, report);
        if (walked !== undefined) out.push(walked);
      });
      schema.check?.(out, path, report);
      return out;
    }
    case 'map': {
      if (!isPlainObject(value)) return expected(path, 'a map', value, report);
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) {
        const itemPath = childPath(path, key);
        schema.key?.(key, itemPath, report);
        if (item === null || item === undefined) {
          report.error(itemPath, 'must not be null');
          continue;
        }
        const walked = walkSchema(schema.values, item, itemPath, report);
        if (walked !== undefined)
          Object.defineProperty(out, key, {
            value: walked,
            enumerable: true,
            writable: true,
            configurable: true,
          });
      }
      schema.check?.(out, path, report);
      return out;
    }
    case 'object':
      return walkObject(schema, value, path, report);
  }
}

function walkObject(schema: ObjectSchema, value: unknown, path: string, report: Reporter): unknown {
  if (!isPlainObject(value)) return expected(path, 'an object', value, report);
  const out: Record<string, unknown> = {};
  for (const [written, item] of Object.entries(value)) {
    const fieldPath = childPath(path, written);
    // Protobuf's JSON mapping also accepts the proto field name (`prefix_rewrite`); Kubernetes does not.
    const camel = written.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
    const key =
      Object.hasOwn(schema.fields, written) || !Object.hasOwn(schema.fields, camel) ? written : camel;
    const fieldSchema = Object.hasOwn(schema.fields, key) ? schema.fields[key] : undefined;
    if (!fieldSchema) {
      report.error(fieldPath, `unknown field${suggestion(written, Object.keys(schema.fields))}`);
      continue;
    }
    if (key !== written) {
      if (Object.hasOwn(value, key)) {
        report.error(fieldPath, `set twice, as ${written} and ${key}`);
        continue;
      }
      report.warning(fieldPath, `proto field name; write ${key} (Kubernetes accepts only camelCase)`);
    }
    if (item === null || item === undefined) continue;
    const walked = walkSchema(fieldSchema, item, childPath(path, key), report);
    if (walked !== undefined) out[key] = walked;
  }
  const present = (field: string) =>
    out[field] !== undefined || (value[field] !== undefined && value[field] !== null);
  for (const field of schema.required ?? []) {
    if (!present(field)) report.error(childPath(path, field), 'required');
  }
  for (const group of schema.exclusive ?? []) {
    const set = group.filter(present);
    if (set.length > 1) report.error(path, `only one of ${set.join(', ')} may be set`);
  }
  schema.check?.(out, path, report);
  return out;
}

/** ` (did you mean "x"?)` for a near-miss field name, '' otherwise. */
function suggestion(key: string, known: readonly string[]): string {
  const lower = key.toLowerCase();
  const close = known.find((k) => k.toLowerCase() === lower || editDistance(k, key) <= 2);
  return close ? ` (did you mean ${JSON.stringify(close)}?)` : '';
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
