/**
 * Filter chain selection, in Envoy's order of criteria (listener.v3.
 * FilterChainMatch): destination port, server name, transport protocol,
 * application protocols. At each step the chains naming a matching value
 * win over those leaving the criterion empty; if none is left, the
 * listener's default filter chain (if any) is used.
 */
import type { FilterChainConfig, ListenerConfig } from '../config/listener-config.ts';
import type { SniffResult } from './protocol-sniffer.ts';

type Chains = readonly FilterChainConfig[];

function narrow(
  chains: Chains,
  specific: (c: FilterChainConfig) => boolean,
  wildcard: (c: FilterChainConfig) => boolean,
): Chains {
  const exact = chains.filter(specific);
  return exact.length > 0 ? exact : chains.filter(wildcard);
}

function serverNameMatches(names: readonly string[], serverName: string | undefined): boolean {
  if (!serverName) return false;
  return names.some((n) => n === serverName || (n.startsWith('*.') && serverName.endsWith(n.slice(1))));
}

/** Chains still possible knowing only the destination port. */
export function chainsForPort(listener: ListenerConfig, port: number): Chains {
  return narrow(
    listener.filterChains,
    (c) => c.match.destinationPort === port,
    (c) => c.match.destinationPort === undefined,
  );
}

/** True when choosing among `chains` (or serving the only one) needs the connection's first bytes. */
export function needsSniff(chains: Chains): boolean {
  return chains.some(
    (c) =>
      c.match.transportProtocol !== undefined ||
      c.match.applicationProtocols.length > 0 ||
      c.match.serverNames.length > 0 ||
      c.network.kind === 'http',
  );
}

/** The chain serving a connection, or undefined (Envoy closes the connection). */
export function selectFilterChain(
  listener: ListenerConfig,
  port: number,
  sniffed: SniffResult,
): FilterChainConfig | undefined {
  let chains = chainsForPort(listener, port);
  chains = narrow(
    chains,
    (c) => serverNameMatches(c.match.serverNames, sniffed.serverName),
    (c) => c.match.serverNames.length === 0,
  );
  chains = narrow(
    chains,
    (c) => c.match.transportProtocol === sniffed.transportProtocol,
    (c) => c.match.transportProtocol === undefined,
  );
  chains = narrow(
    chains,
    (c) => c.match.applicationProtocols.some((p) => sniffed.applicationProtocols.includes(p)),
    (c) => c.match.applicationProtocols.length === 0,
  );
  return chains[0] ?? listener.defaultFilterChain;
}
