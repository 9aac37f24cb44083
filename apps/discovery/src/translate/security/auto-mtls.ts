/**
 * Outbound mesh mTLS (Istio's "auto mTLS"): which clusters originate mTLS,
 * and which endpoints accept it.
 *
 * - DestinationRule `tls.mode: ISTIO_MUTUAL` forces mesh mTLS
 *   (`transportSocket`); `DISABLE` forces plaintext; `SIMPLE`/`MUTUAL` are
 *   user TLS (traffic-policy.ts `applyTls`).
 * - No `tls` in the DestinationRule and the service is MESH_INTERNAL (and
 *   its namespace/mesh PeerAuthentication is not DISABLE): the cluster gets
 *   two `transportSocketMatches`, `tlsMode-istio` (mTLS, for endpoints whose
 *   metadata `envoy.transport_socket_match` says `tlsMode: istio`) and
 *   `tlsMode-disabled` (plaintext, everything else), so meshed and
 *   unmeshed endpoints of one service are each reached the way they accept.
 * - Proxyless gRPC clients get no TLS (they need certificate providers).
 *
 * ALPN: Istio offers `istio-peer-exchange`/`istio-http/*` to carry its
 * metadata exchange; Weft has none, so it offers the cluster's own
 * protocol: `h2` for HTTP/2 clusters, `http/1.1` for HTTP/1.1 ones, nothing
 * for TCP.
 *
 * @see https://istio.io/latest/docs/tasks/security/authentication/authn-policy/#auto-mutual-tls
 */
import type { ClientTLSSettings, Endpoint, Service } from '@weft/config';
import {
  type EffectiveMtlsMode,
  effectiveMtlsMode,
  peerAuthenticationLevels,
} from '../../model/security-policies.ts';
import type { TranslateContext } from '../context.ts';
import { FILTER_NAMES } from '../envoy/type-names.ts';
import type { Body } from '../envoy/values.ts';
import { istioMtlsSni } from '../naming.ts';
import {
  meshUpstreamTransportSocket,
  rawBufferTransportSocket,
  TLS_MODE_DISABLED_MATCH,
  TLS_MODE_ISTIO_MATCH,
  TRANSPORT_SOCKET_MATCH_KEY,
} from './tls-contexts.ts';

/** ALPN protocols to offer upstream, from the cluster's HTTP protocol options. */
export function clusterAlpn(cluster: Body): string[] {
  const options = (cluster.typedExtensionProtocolOptions as Body | undefined)?.[
    FILTER_NAMES.httpProtocolOptions
  ] as Body | undefined;
  const explicit = options?.explicitHttpConfig as Body | undefined;
  if (!explicit) return [];
  return explicit.http2ProtocolOptions ? ['h2'] : ['http/1.1'];
}

/**
 * The mTLS mode a service's workloads accept, as far as the client side
 * can tell (Istio's best-effort inference): the service namespace's
 * selector-less PeerAuthentication, else the mesh-wide one, else
 * MeshConfig's default. Workload-level policies are not considered.
 */
export function serviceMtlsMode(ctx: TranslateContext, service: Service): EffectiveMtlsMode {
  const levels = peerAuthenticationLevels(
    ctx.push.peerAuthentications,
    ctx.push.mesh.rootNamespace,
    service.namespace,
    {},
  );
  return effectiveMtlsMode({ ...levels, workload: undefined }, undefined, ctx.push.mesh.defaultMtlsMode);
}

/**
 * True when an endpoint's proxy accepts mesh mTLS: its `tlsMode` is
 * `istio`, as @weft/config decides it (the `security.istio.io/tlsMode`
 * label, else `istio` for a WorkloadEntry naming a serviceAccount, else
 * `disabled`; Kubernetes endpoints: the pod's label, which the sidecar
 * injector sets, else `disabled`).
 */
export function endpointAcceptsMtls(endpoint: Endpoint): boolean {
  return endpoint.tlsMode === 'istio';
}

/** The EDS endpoint metadata that selects the `tlsMode-istio` transport socket match. */
export function tlsModeMetadata(): Body {
  return { filterMetadata: { [TRANSPORT_SOCKET_MATCH_KEY]: { tlsMode: 'istio' } } };
}

/** What `applyMeshMtls` needs to know about the cluster. */
export interface MeshMtlsTarget {
  readonly service: Service;
  readonly port: number;
  readonly subset: string;
  /** The DestinationRule's effective client TLS for this cluster. */
  readonly tls: ClientTLSSettings | undefined;
  /** Where warnings point (the DestinationRule, or the cluster). */
  readonly where: string;
}

/**
 * Adds mesh mTLS to an outbound cluster when the rules above say so. Call
 * after the cluster type and HTTP protocol options are set. Safe to call for
 * any cluster; leaves user TLS (SIMPLE/MUTUAL) alone.
 */
export function applyMeshMtls(ctx: TranslateContext, cluster: Body, target: MeshMtlsTarget): void {
  const mode = target.tls?.mode;
  if (mode === 'SIMPLE' || mode === 'MUTUAL' || mode === 'DISABLE') return;
  if (ctx.proxyless) {
    if (mode === 'ISTIO_MUTUAL')
      ctx.warn(
        `${target.where}: tls mode ISTIO_MUTUAL needs certificate providers, not supported for proxyless gRPC yet; no TLS`,
      );
    return;
  }
  const sni = target.tls?.sni ?? istioMtlsSni(target.port, target.subset, target.service.hostname);
  const serverIds = target.tls?.subjectAltNames?.length
    ? target.tls.subjectAltNames
    : target.service.serviceAccounts;
  const mtls = meshUpstreamTransportSocket(sni, serverIds, clusterAlpn(cluster));
  if (mode === 'ISTIO_MUTUAL') {
    cluster.transportSocket = mtls;
    return;
  }
  if (target.service.location !== 'MESH_INTERNAL') return;
  if (cluster.type === 'ORIGINAL_DST') return;
  if (serviceMtlsMode(ctx, target.service) === 'DISABLE') return;
  cluster.transportSocketMatches = [
    { name: TLS_MODE_ISTIO_MATCH, match: { tlsMode: 'istio' }, transportSocket: mtls },
    { name: TLS_MODE_DISABLED_MATCH, match: {}, transportSocket: rawBufferTransportSocket() },
  ];
}
