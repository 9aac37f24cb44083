/** Flattens a schema into one row per field, for the configuration reference. */
import { checkRules } from '../schema/checks.ts';
import type { Schema } from '../schema/schema.ts';

export interface FieldRow {
  path: string;
  type: string;
  status: 'supported' | 'validated only';
  rules: string[];
}

function typeOf(schema: Schema): string {
  switch (schema.type) {
    case 'string':
      return schema.enum ? schema.enum.map((v) => `\`${v}\``).join(' \\| ') : 'string';
    case 'integer':
    case 'number':
      return schema.type;
    case 'duration':
      return 'duration';
    case 'boolean':
      return 'boolean';
    case 'array':
      return `list of ${typeOf(schema.items)}`;
    case 'map':
      return `map of ${typeOf(schema.values)}`;
    case 'object':
      return 'object';
    case 'any':
      return 'any';
  }
}

function rulesOf(schema: Schema): string[] {
  const rules: string[] = [];
  if (
    (schema.type === 'integer' || schema.type === 'number') &&
    (schema.min !== undefined || schema.max !== undefined)
  ) {
    if (schema.max === undefined) rules.push(`>= ${schema.min}`);
    else if (schema.min === undefined) rules.push(`<= ${schema.max}`);
    else rules.push(`${schema.min}..${schema.max}`);
  }
  if (schema.type === 'duration')
    rules.push(schema.minMs ? `e.g. \`1.5s\`, >= ${schema.minMs}ms` : 'e.g. `1.5s`');
  if ((schema.type === 'string' || schema.type === 'array') && schema.nonEmpty) rules.push('not empty');
  if (schema.type === 'object') {
    for (const group of schema.exclusive ?? [])
      rules.push(`at most one of ${group.map((f) => `\`${f}\``).join(', ')}`);
  }
  if (schema.type === 'map' && schema.key) {
    const keyRule = checkRules.get(schema.key);
    if (keyRule) rules.push(`keys: ${keyRule}`);
  }
  const checkRule = schema.rule ?? (schema.check ? checkRules.get(schema.check) : undefined);
  if (checkRule) rules.push(checkRule);
  if (schema.deprecated) rules.push(`deprecated: ${schema.deprecated}`);
  if (schema.ignored) rules.push(`ignored: ${schema.ignored}`);
  return rules;
}

/**
 * One row per field under `schema` at `path`. An object schema met a second
 * time is not expanded again: its row says where it was described.
 */
export function describeSchema(schema: Schema, path: string, seen = new Map<Schema, string>()): FieldRow[] {
  const rows: FieldRow[] = [];
  const walk = (s: Schema, at: string, required: boolean, ignored: boolean): void => {
    const row: FieldRow = {
      path: at,
      type: typeOf(s),
      status: ignored || s.ignored ? 'validated only' : 'supported',
      rules: [...(required ? ['required'] : []), ...rulesOf(s)],
    };
    const inner = s.type === 'array' ? s.items : s.type === 'map' ? s.values : s;
    const innerAt = s.type === 'array' ? `${at}[]` : s.type === 'map' ? `${at}.<key>` : at;
    if (inner !== s) row.rules.push(...rulesOf(inner));
    if (inner.type === 'object') {
      const first = seen.get(inner);
      if (first !== undefined) {
        row.rules.push(`same fields as \`${first}\``);
        rows.push(row);
        return;
      }
      seen.set(inner, innerAt);
    }
    rows.push(row);
    if (inner.type !== 'object') return;
    for (const [field, fieldSchema] of Object.entries(inner.fields)) {
      walk(
        fieldSchema,
        `${innerAt}.${field}`,
        inner.required?.includes(field) ?? false,
        row.status === 'validated only',
      );
    }
  };
  walk(schema, path, false, false);
  return rows;
}
