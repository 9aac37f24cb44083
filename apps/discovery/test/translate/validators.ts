/**
 * Checks generated resources the way their consumers would: @weft/xds's
 * encodeResource (proto validity, the server's own path) and grpc-js-xds's
 * resource validators (the code that NACKs in a real proxyless client).
 */
import { createRequire } from 'node:module';
import {
  CLUSTER_TYPE_URL,
  ENDPOINT_TYPE_URL,
  encodeResource,
  LISTENER_TYPE_URL,
  type Resource,
  ROUTE_TYPE_URL,
  type TypeUrl,
} from '@weft/xds';

interface GrpcResourceType {
  decode(context: unknown, resource: { type_url: string; value: Buffer }): { name: string; error?: string };
}

const require = createRequire(import.meta.url);
// register() installs grpc-js-xds's HTTP filter registry (router, fault),
// which its listener validation consults, as in a real client process.
require('@grpc/grpc-js-xds').register();
const grpcTypes: Record<TypeUrl, GrpcResourceType | undefined> = {
  [LISTENER_TYPE_URL]:
    require('@grpc/grpc-js-xds/build/src/xds-resource-type/listener-resource-type.js').ListenerResourceType.get(),
  [ROUTE_TYPE_URL]:
    require('@grpc/grpc-js-xds/build/src/xds-resource-type/route-config-resource-type.js').RouteConfigurationResourceType.get(),
  [CLUSTER_TYPE_URL]:
    require('@grpc/grpc-js-xds/build/src/xds-resource-type/cluster-resource-type.js').ClusterResourceType.get(),
  [ENDPOINT_TYPE_URL]:
    require('@grpc/grpc-js-xds/build/src/xds-resource-type/endpoint-resource-type.js').EndpointResourceType.get(),
  'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret': undefined,
};
const grpcContext = { bootstrap: { certificateProviders: {} }, server: {} };

/** What grpc-js-xds would NACK among `resources`, as `name: error`. */
export function grpcRejections(resources: Partial<Record<TypeUrl, readonly Resource[]>>): string[] {
  const errors: string[] = [];
  for (const [typeUrl, list] of Object.entries(resources) as [TypeUrl, readonly Resource[]][]) {
    const type = grpcTypes[typeUrl];
    if (!type) continue;
    for (const resource of list) {
      const decoded = type.decode(grpcContext, {
        type_url: typeUrl,
        value: Buffer.from(encodeResource(resource)),
      });
      if (decoded.error) errors.push(`${resource.name}: ${decoded.error}`);
    }
  }
  return errors;
}

/** Every resource that does not encode against its Envoy proto, as the encoder's message. */
export function encodeProblems(resources: Partial<Record<string, readonly Resource[]>>): string[] {
  const problems: string[] = [];
  for (const list of Object.values(resources)) {
    for (const resource of list ?? []) {
      try {
        encodeResource(resource);
      } catch (error) {
        problems.push((error as Error).message);
      }
    }
  }
  return problems;
}
