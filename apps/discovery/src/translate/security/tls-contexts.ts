/**
 * The TLS contexts of mesh mTLS, as Istio writes them: the workload
 * certificate and the trust bundle are never in xDS, only referenced by SDS
 * name (`default`, `ROOTCA`) over ADS; the proxy resolves those names from
 * its own agent (the key never leaves the proxy's process).
 *
 * @see https://istio.io/latest/docs/concepts/security/#pki
 * @see https://www.envoyproxy.io/docs/envoy/latest/configuration/security/secret
 */
import {
  DOWNSTREAM_TLS_CONTEXT,
  FILTER_NAMES,
  RAW_BUFFER,
  UPSTREAM_TLS_CONTEXT,
} from '../envoy/type-names.ts';
import { adsConfigSource, type Body, typed } from '../envoy/values.ts';

/** SDS name of the workload certificate chain and private key. */
export const SDS_WORKLOAD_CERT = 'default';
/** SDS name of the trust bundle (the mesh's root certificates). */
export const SDS_ROOT_CA = 'ROOTCA';

/** Endpoint metadata filter Envoy reads to pick a cluster's transport socket match. */
export const TRANSPORT_SOCKET_MATCH_KEY = 'envoy.transport_socket_match';
/** Names of the two transport socket matches of an auto-mTLS cluster (Istio's). */
export const TLS_MODE_ISTIO_MATCH = 'tlsMode-istio';
export const TLS_MODE_DISABLED_MATCH = 'tlsMode-disabled';

/** An SdsSecretConfig fetching `name` over the ADS stream. */
export function sdsSecret(name: string): Body {
  return { name, sdsConfig: adsConfigSource() };
}

/** `spiffe://TRUST_DOMAIN/`: the prefix every SPIFFE ID of the trust domain starts with. */
export function trustDomainPrefix(trustDomain: string): string {
  return `spiffe://${trustDomain}/`;
}

/** SAN matchers for SPIFFE IDs: exact URIs, or a URI prefix (the trust domain). */
export function uriSanMatchers(ids: { exact: readonly string[] } | { prefix: string }): Body[] {
  if ('prefix' in ids) return [{ sanType: 'URI', matcher: { prefix: ids.prefix } }];
  return ids.exact.map((id) => ({ sanType: 'URI', matcher: { exact: id } }));
}

function meshCommonTlsContext(sanMatchers: Body[], alpnProtocols: readonly string[]): Body {
  const defaultValidationContext: Body =
    sanMatchers.length > 0 ? { matchTypedSubjectAltNames: sanMatchers } : {};
  const common: Body = {
    tlsCertificateSdsSecretConfigs: [sdsSecret(SDS_WORKLOAD_CERT)],
    combinedValidationContext: {
      defaultValidationContext,
      validationContextSdsSecretConfig: sdsSecret(SDS_ROOT_CA),
    },
  };
  if (alpnProtocols.length > 0) common.alpnProtocols = [...alpnProtocols];
  return common;
}

/**
 * The client side of mesh mTLS toward one cluster: present `default`,
 * verify the server against `ROOTCA` and the destination's SPIFFE IDs (any
 * ID of the trust bundle when `serverIds` is empty), SNI
 * `outbound_.PORT_.SUBSET_.HOST`, ALPN per the cluster's protocol.
 */
export function meshUpstreamTransportSocket(
  sni: string,
  serverIds: readonly string[],
  alpnProtocols: readonly string[],
): Body {
  return {
    name: FILTER_NAMES.tlsTransportSocket,
    typedConfig: typed(UPSTREAM_TLS_CONTEXT, {
      commonTlsContext: meshCommonTlsContext(uriSanMatchers({ exact: serverIds }), alpnProtocols),
      sni,
    }),
  };
}

/** A plaintext transport socket (Envoy's default, written out for transport socket matches). */
export function rawBufferTransportSocket(): Body {
  return { name: FILTER_NAMES.rawBufferTransportSocket, typedConfig: typed(RAW_BUFFER) };
}

/**
 * The server side of mesh mTLS on an inbound chain: present `default`,
 * require a client certificate that chains to `ROOTCA` and carries a SPIFFE
 * ID of `trustDomain`, offer ALPN per the port's protocol.
 */
export function meshDownstreamTransportSocket(trustDomain: string, alpnProtocols: readonly string[]): Body {
  return {
    name: FILTER_NAMES.tlsTransportSocket,
    typedConfig: typed(DOWNSTREAM_TLS_CONTEXT, {
      commonTlsContext: meshCommonTlsContext(
        uriSanMatchers({ prefix: trustDomainPrefix(trustDomain) }),
        alpnProtocols,
      ),
      requireClientCertificate: { value: true },
    }),
  };
}
