/**
 * Schemas as data: a small vocabulary to describe the shape of Istio specs
 * (types, enums, required and mutually exclusive fields) that
 * `walkSchema` checks with field paths. Semantic checks that need one field
 * hang off a schema as `check`; checks across fields live with each kind.
 */
import type { Reporter } from './reporter.ts';

/** A check on a value that already has the right type. */
export type Check<T> = (value: T, path: string, report: Reporter) => void;

interface Common<T> {
  check?: Check<T>;
  /** What `check` enforces, in words, for the configuration reference. */
  rule?: string;
  /** Accepted for compatibility but ignored by Weft; walking reports a warning when set. */
  ignored?: string;
  /** Deprecated field; walking reports a warning naming the replacement. */
  deprecated?: string;
}

export interface StringSchema extends Common<string> {
  type: 'string';
  enum?: readonly string[];
  /** Reject ''. */
  nonEmpty?: boolean;
}

export interface IntegerSchema extends Common<number> {
  type: 'integer';
  min?: number;
  max?: number;
}

export interface NumberSchema extends Common<number> {
  type: 'number';
  min?: number;
  max?: number;
}

export interface BooleanSchema extends Common<boolean> {
  type: 'boolean';
}

/** A duration string as Istio accepts it: `10s`, `1.5s`, `250ms`, `1m30s`, `1h`. */
export interface DurationSchema extends Common<number> {
  type: 'duration';
  /** Smallest allowed duration in milliseconds (inclusive). */
  minMs?: number;
}

export interface ArraySchema extends Common<unknown[]> {
  type: 'array';
  items: Schema;
  nonEmpty?: boolean;
}

export interface MapSchema extends Common<Record<string, unknown>> {
  type: 'map';
  values: Schema;
  key?: Check<string>;
}

export interface ObjectSchema extends Common<Record<string, unknown>> {
  type: 'object';
  fields: Readonly<Record<string, Schema>>;
  required?: readonly string[];
  /** Groups of fields of which at most one may be set (a protobuf oneof). */
  exclusive?: readonly (readonly string[])[];
}

/** Any value, kept as is (Kubernetes metadata Weft does not read). */
export interface AnySchema extends Common<unknown> {
  type: 'any';
}

export type Schema =
  | AnySchema
  | StringSchema
  | IntegerSchema
  | NumberSchema
  | BooleanSchema
  | DurationSchema
  | ArraySchema
  | MapSchema
  | ObjectSchema;

type Options<S> = Omit<S, 'type'>;

export const any = (): AnySchema => ({ type: 'any' });
export const string = (options: Options<StringSchema> = {}): StringSchema => ({ type: 'string', ...options });
export const enumOf = (values: readonly string[], options: Options<StringSchema> = {}): StringSchema => ({
  type: 'string',
  enum: values,
  ...options,
});
export const integer = (options: Options<IntegerSchema> = {}): IntegerSchema => ({
  type: 'integer',
  ...options,
});
export const uint32 = (options: Options<IntegerSchema> = {}): IntegerSchema => ({
  type: 'integer',
  min: 0,
  max: 0xffff_ffff,
  ...options,
});
export const number = (options: Options<NumberSchema> = {}): NumberSchema => ({ type: 'number', ...options });
export const boolean = (options: Options<BooleanSchema> = {}): BooleanSchema => ({
  type: 'boolean',
  ...options,
});
export const duration = (options: Options<DurationSchema> = {}): DurationSchema => ({
  type: 'duration',
  ...options,
});
export const array = (items: Schema, options: Omit<ArraySchema, 'type' | 'items'> = {}): ArraySchema => ({
  type: 'array',
  items,
  ...options,
});
export const map = (values: Schema, options: Omit<MapSchema, 'type' | 'values'> = {}): MapSchema => ({
  type: 'map',
  values,
  ...options,
});
export const object = (
  fields: Readonly<Record<string, Schema>>,
  options: Omit<ObjectSchema, 'type' | 'fields'> = {},
): ObjectSchema => ({ type: 'object', fields, ...options });

/** A port number, 1..65535. */
export const portNumber = (options: Options<IntegerSchema> = {}): IntegerSchema =>
  integer({ min: 1, max: 65535, ...options });

/** `map<string,string>` such as labels. */
export const stringMap = (options: Omit<MapSchema, 'type' | 'values'> = {}): MapSchema =>
  map(string(), options);

/** `repeated string`. */
export const stringList = (options: Omit<ArraySchema, 'type' | 'items'> = {}): ArraySchema =>
  array(string(), options);
