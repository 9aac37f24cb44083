/**
 * Resources: a type URL, a name and a body in protobufjs plain-object form,
 * and their encoded bytes, produced once per Resource object.
 */
import { createHash, hash } from 'node:crypto';
import { loadEnvoyProtos } from '../protos/envoy-protos.ts';
import { resourceType } from '../resource-types/index.ts';
import type { TypeUrl } from '../type-urls.ts';
import { type BodyProblem, checkBody } from './body-check.ts';

/**
 * A resource body is the plain-object form protobufjs `Type.fromObject`
 * accepts for the message: camelCase field names; enums by name;
 * google.protobuf.Duration as `{ seconds, nanos? }`; wrapper types
 * (UInt32Value, BoolValue) as `{ value }`; google.protobuf.Any as
 * `{ '@type': 'type.googleapis.com/<full.message.name>', ...fields }` (nested
 * Any, e.g. a Listener's HttpConnectionManager and its Router filter, works);
 * google.protobuf.Struct as plain JSON.
 */
export type ResourceBody = Record<string, unknown>;

/** One xDS resource. Treat as immutable: encoded bytes are memoised per object. */
export interface Resource {
  readonly typeUrl: TypeUrl;
  readonly name: string;
  readonly body: ResourceBody;
}

/** A resource body that does not fit its proto. `problems` carry field paths. */
export class InvalidResourceError extends Error {
  readonly code = 'INVALID_RESOURCE';
  readonly problems: readonly BodyProblem[];
  constructor(
    resource: Pick<Resource, 'typeUrl' | 'name'>,
    problems: readonly BodyProblem[],
    cause?: unknown,
  ) {
    const list = problems.map((p) => `${p.path || '(body)'}: ${p.message}`).join('; ');
    super(
      `invalid ${resourceType(resource.typeUrl).shortName} resource ${JSON.stringify(resource.name)}: ${list}`,
      {
        cause,
      },
    );
    this.name = 'InvalidResourceError';
    this.problems = problems;
  }
}

const encoded = new WeakMap<Resource, Uint8Array>();
const versions = new WeakMap<Resource, string>();

/**
 * Checks a resource body against its proto message, without throwing.
 * Returns every problem with its field path; empty means it will encode.
 */
export function validateResource(resource: Resource): BodyProblem[] {
  const type = loadEnvoyProtos().type(resourceType(resource.typeUrl).messageName);
  const problems = checkBody(type, resource.body);
  const declaredName = resource.body.name ?? resource.body.clusterName;
  if (typeof declaredName === 'string' && declaredName !== resource.name) {
    const field = 'name' in resource.body ? 'name' : 'clusterName';
    problems.push({
      path: field,
      message: `does not match the resource name ${JSON.stringify(resource.name)}`,
    });
  }
  return problems;
}

/**
 * The protobuf encoding of the resource body. Memoised per Resource object
 * (identity), so proxies sharing Resource objects share the bytes.
 * Throws InvalidResourceError (code `INVALID_RESOURCE`) for a body that does
 * not fit the proto, e.g. an unknown field, with every problem's path.
 */
export function encodeResource(resource: Resource): Uint8Array {
  const cached = encoded.get(resource);
  if (cached) return cached;
  const problems = validateResource(resource);
  if (problems.length > 0) throw new InvalidResourceError(resource, problems);
  const type = loadEnvoyProtos().type(resourceType(resource.typeUrl).messageName);
  let bytes: Uint8Array;
  try {
    bytes = type.encode(type.fromObject(resource.body)).finish();
  } catch (error) {
    throw new InvalidResourceError(resource, [{ path: '', message: (error as Error).message }], error);
  }
  encoded.set(resource, bytes);
  return bytes;
}

/** Content hash of the encoded bytes (base64url of SHA-256, 16 characters). Memoised per Resource object. */
export function resourceVersion(resource: Resource): string {
  const cached = versions.get(resource);
  if (cached) return cached;
  const version = hashBytes(encodeResource(resource));
  versions.set(resource, version);
  return version;
}

/** Short content hash used for versions. */
export function hashBytes(...chunks: (Uint8Array | string)[]): string {
  // One chunk (a resource's bytes, on every response a client decodes): the one-shot hash, without a Hash object.
  if (chunks.length === 1) return hash('sha256', chunks[0] as Uint8Array | string, 'base64url').slice(0, 16);
  const incremental = createHash('sha256');
  for (const chunk of chunks) incremental.update(chunk);
  return incremental.digest('base64url').slice(0, 16);
}

/**
 * Decodes resource bytes of a type to a body (enums as strings, 64-bit
 * integers as numbers, Any as `{ '@type', ... }`, Struct as JSON).
 * Throws the protobufjs decode error (a RangeError or Error) for bad bytes.
 */
export function decodeResource(typeUrl: TypeUrl, bytes: Uint8Array): ResourceBody {
  const type = loadEnvoyProtos().type(resourceType(typeUrl).messageName);
  return type.toObject(type.decode(bytes), { enums: String, longs: Number, json: true }) as ResourceBody;
}

/** Builds a Resource from a body, taking the name from the body's `name` (or `clusterName` for EDS). */
export function resourceFromBody(typeUrl: TypeUrl, body: ResourceBody): Resource {
  const name = body.name ?? body.clusterName;
  return { typeUrl, name: typeof name === 'string' ? name : '', body };
}
