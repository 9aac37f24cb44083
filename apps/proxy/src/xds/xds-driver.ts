/**
 * Drives the proxy from ADS: subscribes CDS and LDS (wildcard), then EDS
 * for the EDS clusters' assignments and RDS for the route configurations
 * the listeners name; validates every response through ConfigState (NACK
 * with field paths), and applies accepted ones in make-before-break order
 * (the ADS server sends CDS, EDS, LDS, RDS; each is applied as it arrives:
 * new clusters exist before listeners route to them).
 *
 * While the control plane is unreachable the client reconnects with
 * backoff and the last good configuration keeps serving.
 */
import type { Logger } from '@weft/telemetry';
import {
  type AdsClient,
  type AdsClientNode,
  CLUSTER_TYPE_URL,
  createAdsClient,
  ENDPOINT_TYPE_URL,
  LISTENER_TYPE_URL,
  ROUTE_TYPE_URL,
  type TypeUrl,
} from '@weft/xds';
import { type ConfigState, isProxyTypeUrl } from './config-state.ts';

export interface XdsDriverOptions {
  /** `host:port` of the ADS server. */
  readonly address: string;
  readonly node: AdsClientNode;
  readonly mode?: 'sotw' | 'delta';
  readonly state: ConfigState;
  /** Applies an accepted type (cluster manager, listener manager, route table). */
  readonly apply: (typeUrl: TypeUrl) => void;
  readonly logger?: Logger;
  readonly random?: () => number;
}

/** Subscriptions of one named type, kept equal to what the config needs. */
function syncNames(
  client: AdsClient,
  typeUrl: TypeUrl,
  current: Set<string>,
  wanted: readonly string[],
): void {
  const next = new Set(wanted);
  const added = wanted.filter((n) => !current.has(n));
  const removed = [...current].filter((n) => !next.has(n));
  if (added.length > 0) client.subscribe(typeUrl, added);
  if (removed.length > 0) client.unsubscribe(typeUrl, removed);
  current.clear();
  for (const n of next) current.add(n);
}

/** Starts the ADS client; returns it (for connection state, close). */
export function startXdsDriver(options: XdsDriverOptions): AdsClient {
  const { state } = options;
  const edsNames = new Set<string>();
  const rdsNames = new Set<string>();
  const client: AdsClient = createAdsClient({
    address: options.address,
    node: options.node,
    mode: options.mode ?? 'sotw',
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.random ? { random: options.random } : {}),
    validate: (typeUrl, resources) => (isProxyTypeUrl(typeUrl) ? state.validate(typeUrl, resources) : []),
    onUpdate: (typeUrl, update) => {
      if (!isProxyTypeUrl(typeUrl)) return;
      state.accept(typeUrl, update.resources, update.version);
      options.apply(typeUrl);
      if (typeUrl === CLUSTER_TYPE_URL) syncNames(client, ENDPOINT_TYPE_URL, edsNames, state.edsNames());
      if (typeUrl === LISTENER_TYPE_URL) syncNames(client, ROUTE_TYPE_URL, rdsNames, state.rdsNames());
    },
    onNack: (typeUrl, info) => {
      options.logger?.warn('xds config rejected', {
        typeUrl,
        version: info.version,
        problems: info.problems,
      });
    },
  });
  client.subscribe(CLUSTER_TYPE_URL);
  client.subscribe(LISTENER_TYPE_URL);
  client.start();
  return client;
}
