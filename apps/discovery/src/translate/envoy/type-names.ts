/**
 * Full names of the Envoy messages Weft puts inside `google.protobuf.Any`
 * fields, and the well-known filter names Envoy and Istio use for them.
 * Every type named here is loaded by `@weft/xds` (see its ENVOY_PROTO_FILES).
 */

export const HTTP_CONNECTION_MANAGER =
  'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
export const TCP_PROXY = 'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';
export const ROUTER = 'envoy.extensions.filters.http.router.v3.Router';
export const HTTP_FAULT = 'envoy.extensions.filters.http.fault.v3.HTTPFault';
export const CORS = 'envoy.extensions.filters.http.cors.v3.Cors';
export const CORS_POLICY = 'envoy.extensions.filters.http.cors.v3.CorsPolicy';
export const UPSTREAM_TLS_CONTEXT = 'envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';
export const DOWNSTREAM_TLS_CONTEXT = 'envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';
export const HTTP_PROTOCOL_OPTIONS = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';
export const ORIGINAL_DST = 'envoy.extensions.filters.listener.original_dst.v3.OriginalDst';
export const TLS_INSPECTOR = 'envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector';
export const HTTP_INSPECTOR = 'envoy.extensions.filters.listener.http_inspector.v3.HttpInspector';
export const RAW_BUFFER = 'envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer';
export const HTTP_RBAC = 'envoy.extensions.filters.http.rbac.v3.RBAC';
export const NETWORK_RBAC = 'envoy.extensions.filters.network.rbac.v3.RBAC';
export const JWT_AUTHENTICATION = 'envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication';

/** Filter names, as Envoy registers them. */
export const FILTER_NAMES = {
  httpConnectionManager: 'envoy.filters.network.http_connection_manager',
  tcpProxy: 'envoy.filters.network.tcp_proxy',
  router: 'envoy.filters.http.router',
  fault: 'envoy.filters.http.fault',
  cors: 'envoy.filters.http.cors',
  originalDst: 'envoy.filters.listener.original_dst',
  tlsInspector: 'envoy.filters.listener.tls_inspector',
  httpInspector: 'envoy.filters.listener.http_inspector',
  tlsTransportSocket: 'envoy.transport_sockets.tls',
  rawBufferTransportSocket: 'envoy.transport_sockets.raw_buffer',
  httpRbac: 'envoy.filters.http.rbac',
  networkRbac: 'envoy.filters.network.rbac',
  jwtAuthn: 'envoy.filters.http.jwt_authn',
  httpProtocolOptions: 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
} as const;
