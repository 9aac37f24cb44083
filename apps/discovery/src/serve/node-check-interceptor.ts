/**
 * Refuses an ADS stream whose node the discovery server cannot use (a node id
 * that is not `TYPE~IP~ID~DOMAIN`, a malformed metadata field, ...): the
 * stream ends with INVALID_ARGUMENT and the reason, before the ADS server
 * registers it.
 *
 * This is a grpc-js server interceptor because @weft/xds's `onStreamOpen`
 * hook cannot refuse a stream; it looks only at the first request of each
 * ADS stream and passes every message of an accepted stream through.
 */
import * as grpc from '@grpc/grpc-js';
import type { ProxyNode } from './push-orchestrator.ts';

/** Both ADS methods (state of the world and delta). */
export const ADS_METHOD_PATHS: ReadonlySet<string> = new Set([
  '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources',
  '/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources',
]);

/** The node of a decoded request, as @weft/xds's wire codec produces it (metadata as plain JSON). */
export interface RequestNode {
  id?: unknown;
  metadata?: unknown;
  locality?: unknown;
}

export type NodeCheck = (node: ProxyNode) => { ok: true } | { ok: false; reason: string };

export interface NodeCheckInterceptorOptions {
  check: NodeCheck;
  /** Called for each refused stream (log it). */
  onRefused?: (info: { nodeId: string; reason: string; peer: string }) => void;
}

function nodeOf(message: unknown): ProxyNode | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const node = (message as { node?: RequestNode }).node;
  // A request without a node id is the ADS server's to refuse; it has its own message for that.
  if (node === undefined || typeof node.id !== 'string' || node.id === '') return undefined;
  const metadata =
    typeof node.metadata === 'object' && node.metadata !== null
      ? (node.metadata as Record<string, unknown>)
      : {};
  const locality = typeof node.locality === 'object' && node.locality !== null ? node.locality : undefined;
  return { id: node.id, metadata, ...(locality === undefined ? {} : { locality }) };
}

/** Runs `check`; a check that throws refuses the node rather than breaking the gRPC server. */
function safeCheck(check: NodeCheck, node: ProxyNode): ReturnType<NodeCheck> {
  try {
    return check(node);
  } catch (error) {
    return {
      ok: false,
      reason: `node check failed: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
}

/** Creates the interceptor; pass it in `new grpc.Server({ interceptors: [...] })`. */
export function createNodeCheckInterceptor(options: NodeCheckInterceptorOptions): grpc.ServerInterceptor {
  return (method, call) => {
    if (!ADS_METHOD_PATHS.has(method.path)) return new grpc.ServerInterceptingCall(call);
    let checked = false;
    let refused = false;
    const intercepting: grpc.ServerInterceptingCall = new grpc.ServerInterceptingCall(
      call,
      new grpc.ResponderBuilder()
        .withStart((next) => {
          const listener = new grpc.ServerListenerBuilder()
            .withOnReceiveMessage((message, forward) => {
              if (refused) return;
              if (!checked) {
                checked = true;
                const node = nodeOf(message);
                const verdict = node === undefined ? { ok: true as const } : safeCheck(options.check, node);
                if (!verdict.ok && node !== undefined) {
                  refused = true;
                  options.onRefused?.({ nodeId: node.id, reason: verdict.reason, peer: call.getPeer() });
                  intercepting.sendStatus({
                    code: grpc.status.INVALID_ARGUMENT,
                    details: `node ${JSON.stringify(node.id)} refused: ${verdict.reason}`,
                    metadata: new grpc.Metadata(),
                  });
                  return;
                }
              }
              forward(message);
            })
            .build();
          next(listener);
        })
        .build(),
    );
    return intercepting;
  };
}
