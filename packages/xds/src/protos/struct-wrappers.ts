/**
 * protobufjs wrappers so `google.protobuf.Struct` reads and write as plain JSON (`{ a: 1, b: ['x'] }`), the way proto3 JSON
 * and Envoy's config_dump show them.
 *
 * protobufjs applies wrappers when a Type is set up, so they are installed
 * before Envoy's protos are loaded. Idempotent.
 */
import protobuf from 'protobufjs';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Wrapper = protobuf.IWrapper;
type Obj = Record<string, unknown>;

function isPlainObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function jsonToValue(valueType: protobuf.Type, value: unknown): protobuf.Message {
  if (value === null || value === undefined) return valueType.create({ nullValue: 0 });
  if (typeof value === 'boolean') return valueType.create({ boolValue: value });
  if (typeof value === 'number') return valueType.create({ numberValue: value });
  if (typeof value === 'string') return valueType.create({ stringValue: value });
  const listType = valueType.lookupType('google.protobuf.ListValue');
  if (Array.isArray(value)) {
    return valueType.create({
      listValue: listType.create({ values: value.map((v) => jsonToValue(valueType, v)) }),
    });
  }
  if (isPlainObject(value)) return valueType.create({ structValue: jsonToStruct(valueType, value) });
  return valueType.create({ stringValue: String(value) });
}

function jsonToStruct(valueType: protobuf.Type, object: Obj): protobuf.Message {
  const structType = valueType.lookupType('google.protobuf.Struct');
  const fields: Record<string, protobuf.Message> = {};
  for (const [key, value] of Object.entries(object)) fields[key] = jsonToValue(valueType, value);
  return structType.create({ fields });
}

const VALUE_KINDS = [
  'nullValue',
  'numberValue',
  'stringValue',
  'boolValue',
  'structValue',
  'listValue',
] as const;

/** Decodes a google.protobuf.Value message (a decoded instance or its plain form) to JSON. */
export function valueToJson(value: unknown): Json {
  if (!isPlainObject(value) && !(value instanceof protobuf.Message)) return null;
  const v = value as Obj;
  const declared = typeof v.kind === 'string' ? v.kind : undefined;
  const kind =
    declared ?? VALUE_KINDS.find((k) => Object.hasOwn(v, k) && v[k] !== null && v[k] !== undefined);
  switch (kind) {
    case 'numberValue':
      return Number(v.numberValue);
    case 'stringValue':
      return String(v.stringValue);
    case 'boolValue':
      return Boolean(v.boolValue);
    case 'structValue':
      return structToJson(v.structValue);
    case 'listValue':
      return listToJson(v.listValue);
    default:
      return null;
  }
}

function listToJson(list: unknown): Json[] {
  const values = isPlainObject(list) || list instanceof protobuf.Message ? (list as Obj).values : undefined;
  return Array.isArray(values) ? values.map(valueToJson) : [];
}

/** Decodes a google.protobuf.Struct message to a plain JSON object. */
export function structToJson(struct: unknown): { [key: string]: Json } {
  const out: { [key: string]: Json } = {};
  const fields =
    isPlainObject(struct) || struct instanceof protobuf.Message ? (struct as Obj).fields : undefined;
  if (!isPlainObject(fields)) return out;
  for (const [key, value] of Object.entries(fields)) out[key] = valueToJson(value);
  return out;
}

const structWrapper: Wrapper = {
  fromObject(this: protobuf.Type, object: Obj) {
    if (object instanceof protobuf.Message) return this.fromObject(object);
    return jsonToStruct(this.lookupType('google.protobuf.Value'), object);
  },
  toObject(this: protobuf.Type, message: protobuf.Message, options?: protobuf.IConversionOptions) {
    if (options?.json) return structToJson(message);
    return this.toObject(message, options);
  },
};

let installed = false;

/** Registers the wrappers with protobufjs. Safe to call repeatedly. */
export function installStructWrappers(): void {
  if (installed) return;
  installed = true;
  protobuf.wrappers['.google.protobuf.Struct'] = structWrapper;
}
