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

/**
 * Serializer for responses that may carry `encodedResources`. Protobuf
 * fields may come in any order and a repeated field's entries concatenate,
 * so the shared pre-encoded chunks are appended as they are: one copy into
 * the message buffer grpc-js asks for, no re-encoding.
 */
function responseSerializer<T extends { encodedResources?: readonly Uint8Array[] }>(
  type: () => protobuf.Type,
): (value: T) => Buffer {
  return (value) => {
    const head = type().encode(value).finish();
    const chunks = value.encodedResources ?? [];
    if (chunks.length === 0) return Buffer.from(head.buffer, head.byteOffset, head.byteLength);
    return Buffer.concat([head, ...chunks]);
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

/** The generic service definition for grpc-js (`server.addService` / `makeGenericClientConstructor`). */
export const ADS_SERVICE_DEFINITION: grpc.ServiceDefinition<grpc.UntypedServiceImplementation> & AdsMethods =
  {
    StreamAggregatedResources: {
      path: SOTW_METHOD_PATH,
      requestStream: true,
      responseStream: true,
      requestSerialize: requestSerializer(() => protos().discoveryRequest),
      requestDeserialize: deserializer(() => protos().discoveryRequest, true),
      responseSerialize: responseSerializer(() => protos().discoveryResponse),
      responseDeserialize: deserializer(() => protos().discoveryResponse, false),
    },
    DeltaAggregatedResources: {
      path: DELTA_METHOD_PATH,
      requestStream: true,
      responseStream: true,
      requestSerialize: requestSerializer(() => protos().deltaDiscoveryRequest),
      requestDeserialize: deserializer(() => protos().deltaDiscoveryRequest, true),
      responseSerialize: responseSerializer(() => protos().deltaDiscoveryResponse),
      responseDeserialize: deserializer(() => protos().deltaDiscoveryResponse, false),
    },
  };
