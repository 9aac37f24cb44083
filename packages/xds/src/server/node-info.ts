/** Turns the wire Node of a stream's first request into NodeInfo. */
import type { WireNode } from '../wire/ads-wire.ts';
import type { NodeInfo } from './ads-server-types.ts';

/** NodeInfo from a decoded Node; undefined when there is no non-empty `id`. */
export function nodeInfoFromWire(node: WireNode | undefined): NodeInfo | undefined {
  if (!node || typeof node.id !== 'string' || node.id === '') return undefined;
  const metadata = typeof node.metadata === 'object' && node.metadata !== null ? node.metadata : {};
  return {
    id: node.id,
    cluster: node.cluster ?? '',
    metadata,
    ...(node.locality ? { locality: node.locality } : {}),
    ...(node.userAgentName ? { userAgentName: node.userAgentName } : {}),
    ...(node.userAgentVersion ? { userAgentVersion: node.userAgentVersion } : {}),
    clientFeatures: node.clientFeatures ?? [],
  };
}
