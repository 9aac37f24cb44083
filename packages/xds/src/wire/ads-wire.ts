/**
 * The ADS service on the wire: envoy.service.discovery.v3.AggregatedDiscoveryService
 * with protobufjs (de)serializers, shared by the server and the client.
 *
 * Resources travel as google.protobuf.Any `{ type_url, value }` whose `value`
 * is the pre-encoded resource: responses are assembled from cached bytes,
 * never by re-encoding bodies per stream.
 */
import type * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import { loadEnvoyProtos } from '../protos/envoy-protos.ts';

export const ADS_SERVICE_NAME = 'envoy.service.discovery.v3.AggregatedDiscoveryService';
export const SOTW_METHOD_PATH = `/${ADS_SERVICE_NAME}/StreamAggregatedResources`;
export const DELTA_METHOD_PATH = `/${ADS_SERVICE_NAME}/DeltaAggregatedResources`;

/** google.protobuf.Any as protobufjs writes and reads it (field names as in the bundled any.proto). */
export interface WireAny {
  type_url: string;
  value: Uint8Array;
}

/** google.rpc.Status, as carried in `error_detail`. */
export interface WireStatus {
  code?: number;
  message?: string;
}

/** envoy.config.core.v3.Node, decoded (metadata Struct as plain JSON). */
export interface WireNode {
  id?: string;
  cluster?: string;
  metadata?: Record<string, unknown>;
  locality?: { region?: string; zone?: string; subZone?: string };
  userAgentName?: string;
  userAgentVersion?: string;
  clientFeatures?: string[];
}

export interface DiscoveryRequest {
  versionInfo?: string;
  node?: WireNode;
  resourceNames?: string[];
  typeUrl?: string;
  responseNonce?: string;
  errorDetail?: WireStatus;
}

export interface DiscoveryResponse {
  versionInfo: string;
  resources: WireAny[];
  /**
   * Server side only: the `resources` field already encoded, as chunks of
   * whole entries (see `encodeResourcesField`, `sotwResourceEntry`); written
   * as they are after the other fields, and `resources` must then be empty.
   * Shared by every stream sending the view.
   */
  encodedResources?: readonly Uint8Array[];
  typeUrl: string;
  nonce: string;
  controlPlane?: { identifier: string };
}

export interface DeltaDiscoveryRequest {
  node?: WireNode;
  typeUrl?: string;
  resourceNamesSubscribe?: string[];
  resourceNamesUnsubscribe?: string[];
  initialResourceVersions?: Record<string, string>;
  responseNonce?: string;
  errorDetail?: WireStatus;
}

export interface DeltaResource {
  name: string;
  version: string;
  resource?: WireAny;
}

export interface DeltaDiscoveryResponse {
  systemVersionInfo: string;
  resources: DeltaResource[];
  /** Server side only: pre-encoded `resources` entries, as chunks, as for DiscoveryResponse. */
  encodedResources?: readonly Uint8Array[];
  typeUrl: string;
  removedResources: string[];
  nonce: string;
  controlPlane?: { identifier: string };
}

/** Requests go through `fromObject` (node metadata is plain JSON). */
function requestSerializer<T>(type: () => protobuf.Type): (value: T) => Buffer {
  return (value) => {
    const t = type();
    const bytes = t.encode(t.fromObject(value as Record<string, unknown>)).finish();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

/** Encodes `resources` as DiscoveryResponse field 2 (repeated Any), for `DiscoveryResponse.encodedResources`. */
export function encodeResourcesField(resources: readonly WireAny[]): Uint8Array {
  return loadEnvoyProtos().discoveryResponse.encode({ resources }).finish();
}

const sotwEntries = new WeakMap<Uint8Array, { typeUrl: string; entry: Uint8Array }>();

/**
 * One encoded entry of DiscoveryResponse field 2 (an Any of `typeUrl` whose
 * value is `value`), memoised per `value` object: the entries of resources
 * shared by many responses are encoded once.
 */
export function sotwResourceEntry(typeUrl: string, value: Uint8Array): Uint8Array {
  const known = sotwEntries.get(value);
  if (known !== undefined && known.typeUrl === typeUrl) return known.entry;
  const entry = encodeResourcesField([{ type_url: typeUrl, value }]);
  sotwEntries.set(value, { typeUrl, entry });
  return entry;
}

/** Encodes delta resource entries as DeltaDiscoveryResponse field 2, for `encodedResources`. */
export function encodeDeltaResourcesField(resources: readonly DeltaResource[]): Uint8Array {
  return loadEnvoyProtos().deltaDiscoveryResponse.encode({ resources }).finish();
}

/** Where a response serializer puts its bytes: a fresh buffer, or a reused one (see `reusedFraming`). */
type Framing = (size: number) => Buffer;

const freshFraming: Framing = (size) => Buffer.allocUnsafe(size);

/** Largest response framed in the reused buffer; larger ones get a buffer of their own. */
const MAX_REUSED_FRAME = 16 * 2 ** 20;

/**
 * Framing in one buffer reused for every response, for the server's
 * serializers only. grpc-js copies what a response serializer returns into
 * its own length-prefixed message buffer before `sendMessage` returns
 * (server-interceptors `serializeMessage`) and never keeps the returned
 * buffer, so the next response may overwrite it. That saves one copy and one
 * off-heap allocation per response per stream: 1000 proxies syncing at once
 * allocate half as much external memory, which is what drives V8's full
 * GCs of a large heap. `test/flow-control.test.ts` sends many concurrent,
 * distinct responses through real grpc-js to guard the assumption.
 */
function reusedFraming(): Framing {
  let buffer = Buffer.allocUnsafe(0);
  return (size) => {
    if (size > MAX_REUSED_FRAME) return Buffer.allocUnsafe(size);
    if (buffer.length < size)
      buffer = Buffer.allocUnsafe(Math.min(MAX_REUSED_FRAME, Math.max(size, buffer.length * 2)));
    return buffer.subarray(0, size);
  };
}

/**
 * Serializer for responses that may carry `encodedResources`. Protobuf
 * fields may come in any order and a repeated field's entries concatenate,
 * so the shared pre-encoded chunks are appended as they are after the
 * response's own fields: one copy into the buffer `frame` gives, no
 * re-encoding.
 */
function responseSerializer<T extends { encodedResources?: readonly Uint8Array[] }>(
  type: () => protobuf.Type,
  frame: Framing,
): (value: T) => Buffer {
  return (value) => {
    const head = type().encode(value).finish();
    const chunks = value.encodedResources ?? [];
    let size = head.byteLength;
    for (const chunk of chunks) size += chunk.byteLength;
    const out = frame(size);
    out.set(head, 0);
    let offset = head.byteLength;
    for (const chunk of chunks) {
      out.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return out;
  };
}

/** Requests decode in JSON mode (node metadata Struct becomes plain JSON); responses keep Any as raw bytes. */
function deserializer<T>(type: () => protobuf.Type, json: boolean): (bytes: Buffer) => T {
  return (bytes) => {
    const t = type();
    return t.toObject(t.decode(bytes), { longs: Number, enums: String, json }) as T;
  };
}

const protos = () => loadEnvoyProtos();

type AdsMethods = {
  StreamAggregatedResources: grpc.MethodDefinition<DiscoveryRequest, DiscoveryResponse>;
  DeltaAggregatedResources: grpc.MethodDefinition<DeltaDiscoveryRequest, DeltaDiscoveryResponse>;
};

function adsServiceDefinition(
  frame: Framing,
): grpc.ServiceDefinition<grpc.UntypedServiceImplementation> & AdsMethods {
  return {
    StreamAggregatedResources: {
      path: SOTW_METHOD_PATH,
      requestStream: true,
      responseStream: true,
      requestSerialize: requestSerializer(() => protos().discoveryRequest),
      requestDeserialize: deserializer(() => protos().discoveryRequest, true),
      responseSerialize: responseSerializer(() => protos().discoveryResponse, frame),
      responseDeserialize: deserializer(() => protos().discoveryResponse, false),
    },
    DeltaAggregatedResources: {
      path: DELTA_METHOD_PATH,
      requestStream: true,
      responseStream: true,
      requestSerialize: requestSerializer(() => protos().deltaDiscoveryRequest),
      requestDeserialize: deserializer(() => protos().deltaDiscoveryRequest, true),
      responseSerialize: responseSerializer(() => protos().deltaDiscoveryResponse, frame),
      responseDeserialize: deserializer(() => protos().deltaDiscoveryResponse, false),
    },
  };
}

/**
 * The generic service definition for grpc-js (`makeGenericClientConstructor`,
 * tests): every serialized response is a buffer of its own.
 */
export const ADS_SERVICE_DEFINITION = adsServiceDefinition(freshFraming);

/**
 * The definition the ADS server registers (`server.addService`): responses
 * are framed in one reused buffer, valid until the next response is
 * serialized, which grpc-js's copy-on-send makes safe (see `reusedFraming`).
 */
export const ADS_SERVER_DEFINITION = adsServiceDefinition(reusedFraming());
