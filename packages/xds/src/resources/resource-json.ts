/**
 * Envoy's proto3 JSON look of a resource, for `/debug/config_dump`: Any with
 * `@type`, durations as `"1.5s"`, wrapper types unwrapped, Struct as JSON,
 * bytes as base64, timestamps as RFC 3339.
 */
import protobuf from 'protobufjs';
import { loadEnvoyProtos } from '../protos/envoy-protos.ts';
import { resourceType } from '../resource-types/index.ts';
import { encodeResource, type Resource } from './resource.ts';

const WRAPPERS = new Set(
  ['Double', 'Float', 'Int64', 'UInt64', 'Int32', 'UInt32', 'Bool', 'String', 'Bytes'].map(
    (kind) => `.google.protobuf.${kind}Value`,
  ),
);

/** The proto3 JSON form of a resource, as `@type` + fields (what Envoy's config_dump prints). */
export function resourceToJson(resource: Resource): unknown {
  const protos = loadEnvoyProtos();
  const type = protos.type(resourceType(resource.typeUrl).messageName);
  const object = type.toObject(type.decode(encodeResource(resource)), {
    enums: String,
    longs: Number,
    bytes: String,
    json: true,
  });
  return { '@type': resource.typeUrl, ...(messageToJson(type, object, 0) as Record<string, unknown>) };
}

function durationToJson(value: Record<string, unknown>): string {
  const seconds = Number(value.seconds ?? 0);
  const nanos = Number(value.nanos ?? 0);
  if (nanos === 0) return `${seconds}s`;
  // proto3 JSON prints 3, 6 or 9 fractional digits.
  let fraction = String(Math.abs(nanos)).padStart(9, '0');
  while (fraction.length > 3 && fraction.endsWith('000')) fraction = fraction.slice(0, -3);
  const sign = seconds < 0 || nanos < 0 ? '-' : '';
  return `${sign}${Math.abs(seconds)}.${fraction}s`;
}

function timestampToJson(value: Record<string, unknown>): string {
  const millis = Number(value.seconds ?? 0) * 1000 + Math.floor(Number(value.nanos ?? 0) / 1e6);
  return new Date(millis).toISOString();
}

function messageToJson(type: protobuf.Type, value: unknown, depth: number): unknown {
  if (depth > 64 || typeof value !== 'object' || value === null) return value;
  const object = value as Record<string, unknown>;
  switch (type.fullName) {
    case '.google.protobuf.Duration':
      return durationToJson(object);
    case '.google.protobuf.Timestamp':
      return timestampToJson(object);
    case '.google.protobuf.Struct':
      return object;
    case '.google.protobuf.Any': {
      const typeUrl = object['@type'];
      if (typeof typeUrl !== 'string') return object;
      const inner = type.root.lookupType(typeUrl.slice(typeUrl.lastIndexOf('/') + 1));
      return { '@type': typeUrl, ...(messageToJson(inner, object, depth + 1) as Record<string, unknown>) };
    }
  }
  if (WRAPPERS.has(type.fullName)) return object.value;
  const out: Record<string, unknown> = {};
  for (const [key, fieldValue] of Object.entries(object)) {
    const field = type.fields[key];
    const resolved = field?.resolvedType;
    if (!field || !(resolved instanceof protobuf.Type)) {
      out[key] = fieldValue;
    } else if (field.map) {
      const entries = Object.entries(fieldValue as Record<string, unknown>);
      out[key] = Object.fromEntries(entries.map(([k, v]) => [k, messageToJson(resolved, v, depth + 1)]));
    } else if (field.repeated && Array.isArray(fieldValue)) {
      out[key] = fieldValue.map((v) => messageToJson(resolved, v, depth + 1));
    } else {
      out[key] = messageToJson(resolved, fieldValue, depth + 1);
    }
  }
  return out;
}
