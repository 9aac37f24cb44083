/**
 * Envoy's response flags (access log `%RESPONSE_FLAGS%`), the subset
 * weft-proxy sets. See Envoy's access log "Command operators" doc.
 */
export const ResponseFlag = {
  /** No healthy upstream hosts. */
  NoHealthyUpstream: 'UH',
  /** Upstream connection failure. */
  UpstreamConnectionFailure: 'UF',
  /** Upstream overflow (circuit breaker). */
  UpstreamOverflow: 'UO',
  /** No route configured (no virtual host, no route, or no route configuration). */
  NoRouteFound: 'NR',
  /** Upstream retry limit exceeded. */
  UpstreamRetryLimitExceeded: 'URX',
  /** Downstream connection termination. */
  DownstreamConnectionTermination: 'DC',
  /** Upstream request timeout. */
  UpstreamRequestTimeout: 'UT',
  /** Upstream connection termination (before a response). */
  UpstreamConnectionTermination: 'UC',
  /** Upstream remote reset (after a response started). */
  UpstreamRemoteReset: 'UR',
  /** The route's cluster does not exist. */
  NoClusterFound: 'NC',
  /** Fault injection: delayed. */
  DelayInjected: 'DI',
  /** Fault injection: aborted. */
  FaultInjected: 'FI',
  /** Stream idle timeout. */
  StreamIdleTimeout: 'SI',
  /** Upstream protocol error (e.g. a response header that cannot be forwarded). */
  UpstreamProtocolError: 'UPE',
  /** Downstream protocol error. */
  DownstreamProtocolError: 'DPE',
} as const;

export type ResponseFlagCode = (typeof ResponseFlag)[keyof typeof ResponseFlag];
