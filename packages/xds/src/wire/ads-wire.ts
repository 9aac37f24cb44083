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
  typeUrl: string;
  removedResources: string[];
  nonce: string;
  controlPlane?: { identifier: string };
}

/**
 * Requests go through `fromObject` (node metadata is plain JSON); responses are
 * encoded as given, so their Any values are copied, not re-encoded.
 */
function serializer<T>(type: () => protobuf.Type, convert: boolean): (value: T) => Buffer {
  return (value) => {
    const t = type();
    const bytes = t
      .encode(convert ? t.fromObject(value as Record<string, unknown>) : (value as object))
      .finish();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
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
      requestSerialize: serializer(() => protos().discoveryRequest, true),
      requestDeserialize: deserializer(() => protos().discoveryRequest, true),
      responseSerialize: serializer(() => protos().discoveryResponse, false),
      responseDeserialize: deserializer(() => protos().discoveryResponse, false),
    },
    DeltaAggregatedResources: {
      path: DELTA_METHOD_PATH,
      requestStream: true,
      responseStream: true,
      requestSerialize: serializer(() => protos().deltaDiscoveryRequest, true),
      requestDeserialize: deserializer(() => protos().deltaDiscoveryRequest, true),
      responseSerialize: serializer(() => protos().deltaDiscoveryResponse, false),
      responseDeserialize: deserializer(() => protos().deltaDiscoveryResponse, false),
    },
  };
