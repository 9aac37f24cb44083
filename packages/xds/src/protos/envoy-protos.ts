/**
 * Loads Envoy's v3 protos from the npm package that ships them
 * (`@grpc/grpc-js-xds`, directory `deps/`), once per process.
 *
 * Only the files Weft needs are parsed (with their imports); the proto text
 * stays in node_modules and is never copied into this repository.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import protobuf from 'protobufjs';
import { installStructWrappers } from './struct-wrappers.ts';

/** The entry files, relative to `deps/envoy-api`. Their imports follow. */
export const ENVOY_PROTO_FILES: readonly string[] = [
  'envoy/service/discovery/v3/ads.proto',
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/route/v3/route.proto',
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
  'envoy/extensions/transport_sockets/tls/v3/secret.proto',
  'envoy/extensions/transport_sockets/tls/v3/tls.proto',
  'envoy/extensions/transport_sockets/raw_buffer/v3/raw_buffer.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto',
  'envoy/extensions/filters/network/rbac/v3/rbac.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/filters/http/rbac/v3/rbac.proto',
  'envoy/extensions/filters/http/fault/v3/fault.proto',
  'envoy/extensions/filters/http/cors/v3/cors.proto',
  'envoy/extensions/filters/http/jwt_authn/v3/config.proto',
  'envoy/extensions/filters/http/local_ratelimit/v3/local_rate_limit.proto',
  'envoy/extensions/upstreams/http/v3/http_protocol_options.proto',
  'envoy/extensions/filters/listener/original_dst/v3/original_dst.proto',
  'envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.proto',
  'envoy/extensions/filters/listener/http_inspector/v3/http_inspector.proto',
  'envoy/extensions/clusters/aggregate/v3/cluster.proto',
];

/** Envoy's protos as one protobufjs Root, plus the lookups Weft uses most. */
export interface EnvoyProtos {
  readonly root: protobuf.Root;
  /** The Type of a message by full name (no leading dot); throws for an unknown name. */
  type(fullName: string): protobuf.Type;
  readonly discoveryRequest: protobuf.Type;
  readonly discoveryResponse: protobuf.Type;
  readonly deltaDiscoveryRequest: protobuf.Type;
  readonly deltaDiscoveryResponse: protobuf.Type;
}

let loaded: EnvoyProtos | undefined;

/** The include directories: `@grpc/grpc-js-xds/deps/*`, then protobufjs' own google/protobuf files. */
export function envoyProtoIncludeDirs(): string[] {
  const require = createRequire(import.meta.url);
  const packageJson = require.resolve('@grpc/grpc-js-xds/package.json');
  const deps = join(dirname(packageJson), 'deps');
  const dirs = ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((dir) => join(deps, dir));
  // google/protobuf/descriptor.proto (imported by the validate and udpa
  // annotations) ships with protobufjs itself, not under deps/.
  return [...dirs, dirname(require.resolve('protobufjs/package.json'))];
}

/**
 * Envoy's protos, parsed on first call and shared by every later call.
 * Safe to call repeatedly; the first call takes a few hundred milliseconds.
 */
export function loadEnvoyProtos(): EnvoyProtos {
  if (loaded) return loaded;
  installStructWrappers();
  const includeDirs = envoyProtoIncludeDirs();
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => {
    for (const dir of includeDirs) {
      const candidate = join(dir, target);
      if (existsSync(candidate)) return candidate;
    }
    return target;
  };
  root.loadSync(ENVOY_PROTO_FILES as string[], { keepCase: false });
  root.resolveAll();
  const type = (fullName: string): protobuf.Type => root.lookupType(fullName);
  loaded = {
    root,
    type,
    discoveryRequest: type('envoy.service.discovery.v3.DiscoveryRequest'),
    discoveryResponse: type('envoy.service.discovery.v3.DiscoveryResponse'),
    deltaDiscoveryRequest: type('envoy.service.discovery.v3.DeltaDiscoveryRequest'),
    deltaDiscoveryResponse: type('envoy.service.discovery.v3.DeltaDiscoveryResponse'),
  };
  return loaded;
}
