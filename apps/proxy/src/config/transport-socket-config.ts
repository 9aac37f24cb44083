/**
 * A Cluster's upstream transport: `transportSocket` (plaintext or
 * UpstreamTlsContext) and `transportSocketMatches`, Envoy's per-endpoint
 * choice of transport (Istio's auto mTLS: `tlsMode-istio` for endpoints
 * whose metadata `envoy.transport_socket_match` says `tlsMode: istio`,
 * `tlsMode-disabled` (plaintext) for the rest).
 *
 * Certificates and validation come from the identity agent by SDS name
 * (`default`, `ROOTCA`; see tls/tls-context-config.ts). A match whose
 * socket needs what Weft lacks is kept but marked `unavailable`; endpoints that select it fail to connect (503 UF) with
 * that reason, while the cluster's other endpoints serve. Envoy picks the
 * first match whose every `match` key equals the endpoint's metadata
 * value; no match falls back to the cluster's `transportSocket`.
 */
import { compileCommonTlsContext, type TlsCertificatesConfig } from '../tls/tls-context-config.ts';
import type { EndpointConfig } from './endpoint-config.ts';
import {
  anyTypeName,
  at,
  type Body,
  formatProblems,
  ProblemList,
  readBodies,
  readBody,
  readString,
} from './problems.ts';

/** TLS toward an upstream: SNI, ALPN, and (mesh mTLS) the SDS certificate and ROOTCA validation. */
export interface UpstreamTlsConfig extends TlsCertificatesConfig {
  readonly sni: string | undefined;
}

/** How one endpoint is reached: plaintext (`tls` undefined), TLS, or not at all (`unavailable`). */
export interface TransportChoice {
  readonly tls: UpstreamTlsConfig | undefined;
  /** Why this transport cannot be used (the endpoint's connections fail as UF). */
  readonly unavailable: string | undefined;
}

export interface TransportSocketMatchConfig extends TransportChoice {
  readonly name: string;
  readonly match: Readonly<Record<string, string>>;
}

const UPSTREAM_TLS_CONTEXT = 'envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';
const RAW_BUFFER = 'envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer';
/** Endpoint metadata filter key that transport socket matches read. */
export const TRANSPORT_SOCKET_MATCH_KEY = 'envoy.transport_socket_match';

/** Compiles a `core.v3.TransportSocket` at `path` (plaintext -> undefined). */
export function compileTransportSocket(
  socket: Body,
  path: string,
  problems: ProblemList,
): UpstreamTlsConfig | undefined {
  const config = readBody(socket, 'typedConfig', path, problems);
  const typeName = anyTypeName(config);
  if (typeName === RAW_BUFFER || (!config && socket.name === 'envoy.transport_sockets.raw_buffer'))
    return undefined;
  if (typeName !== UPSTREAM_TLS_CONTEXT || !config) {
    problems.add(path, `unsupported transport socket ${typeName ?? String(socket.name)}`);
    return undefined;
  }
  const tlsPath = at(path, 'typedConfig');
  const common = readBody(config, 'commonTlsContext', tlsPath, problems) ?? {};
  const certificates = compileCommonTlsContext(common, at(tlsPath, 'commonTlsContext'), problems);
  return { ...certificates, sni: readString(config, 'sni', tlsPath, problems) || undefined };
}

/**
 * Compiles `transportSocketMatches`. Shape errors are problems (NACK); a
 * socket Weft cannot originate only marks its match unavailable.
 */
export function compileTransportSocketMatches(
  body: Body,
  problems: ProblemList,
): TransportSocketMatchConfig[] {
  const matches: TransportSocketMatchConfig[] = [];
  for (const { body: entry, path } of readBodies(body, 'transportSocketMatches', '', problems)) {
    const name = readString(entry, 'name', path, problems) ?? '';
    if (!name) problems.add(at(path, 'name'), 'is required');
    const matchBody = readBody(entry, 'match', path, problems) ?? {};
    const match: Record<string, string> = {};
    for (const [key, value] of Object.entries(matchBody)) {
      if (typeof value === 'string') match[key] = value;
      else problems.add(at(at(path, 'match'), key), 'only string values are supported');
    }
    const socket = readBody(entry, 'transportSocket', path, problems);
    if (!socket) {
      problems.add(at(path, 'transportSocket'), 'is required');
      continue;
    }
    const socketProblems = new ProblemList();
    const tls = compileTransportSocket(socket, at(path, 'transportSocket'), socketProblems);
    const unavailable = socketProblems.empty ? undefined : formatProblems(name, socketProblems.items);
    matches.push({ name, match, tls: unavailable ? undefined : tls, unavailable });
  }
  return matches;
}

/** Reads an endpoint's `metadata.filterMetadata["envoy.transport_socket_match"]` string values. */
export function readSocketMatchMetadata(lbEndpoint: Body): Readonly<Record<string, string>> {
  const metadata = lbEndpoint.metadata as Body | undefined;
  const filters = metadata?.filterMetadata as Body | undefined;
  const values = filters?.[TRANSPORT_SOCKET_MATCH_KEY];
  const out: Record<string, string> = {};
  if (typeof values !== 'object' || values === null) return out;
  for (const [key, value] of Object.entries(values)) if (typeof value === 'string') out[key] = value;
  return out;
}

/** The transport for `endpoint`: the first match whose keys all equal its metadata, else `fallback`. */
export function chooseTransport(
  matches: readonly TransportSocketMatchConfig[],
  fallback: UpstreamTlsConfig | undefined,
  endpoint: Pick<EndpointConfig, 'socketMatch'>,
): TransportChoice {
  for (const candidate of matches) {
    const keys = Object.keys(candidate.match);
    if (keys.every((key) => endpoint.socketMatch[key] === candidate.match[key])) return candidate;
  }
  return { tls: fallback, unavailable: undefined };
}
