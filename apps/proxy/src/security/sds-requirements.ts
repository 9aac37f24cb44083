/**
 * Resources that need the identity agent's secrets (SDS `default` /
 * `ROOTCA`) cannot be honoured by a proxy started without `--ca-addr`:
 * listeners with TLS-terminating filter chains and clusters whose own
 * `transportSocket` presents or verifies certificates are rejected (NACK)
 * with a precise message. Auto-mTLS `transportSocketMatches` stay accepted:
 * endpoints that select them fail to connect (503 UF) with the reason,
 * while plaintext endpoints of the same cluster keep serving.
 */
import { CLUSTER_TYPE_URL, LISTENER_TYPE_URL } from '@weft/xds';
import type { ClusterConfig } from '../config/cluster-config.ts';
import type { ListenerConfig } from '../config/listener-config.ts';
import type { Problem } from '../config/problems.ts';
import { usesAgentSecrets } from '../tls/tls-runtime.ts';

const NO_AGENT =
  'needs SDS secrets default/ROOTCA, but this proxy has no identity agent (start weft-proxy with --ca-addr, --token-file and --ca-root-file)';

/** Problems of a compiled resource for a proxy without an identity agent. */
export function sdsWithoutAgentProblems(typeUrl: string, value: unknown): Problem[] {
  const problems: Problem[] = [];
  if (typeUrl === LISTENER_TYPE_URL) {
    const listener = value as ListenerConfig;
    listener.filterChains.forEach((chain, i) => {
      if (chain.tls && usesAgentSecrets(chain.tls))
        problems.push({ path: `filterChains[${i}].transportSocket`, message: NO_AGENT });
    });
    if (listener.defaultFilterChain?.tls && usesAgentSecrets(listener.defaultFilterChain.tls))
      problems.push({ path: 'defaultFilterChain.transportSocket', message: NO_AGENT });
  } else if (typeUrl === CLUSTER_TYPE_URL) {
    const tls = (value as ClusterConfig).tls;
    if (tls && usesAgentSecrets(tls)) problems.push({ path: 'transportSocket', message: NO_AGENT });
  }
  return problems;
}
