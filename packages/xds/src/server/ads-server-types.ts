/** Public types of the ADS server. */
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from '@weft/telemetry';
import type { SnapshotCache } from '../cache/snapshot-cache.ts';
import type { TypeUrl } from '../type-urls.ts';

/** The proxy's `envoy.config.core.v3.Node`, as first sent on a stream. */
export interface NodeInfo {
  readonly id: string;
  readonly cluster: string;
  /** google.protobuf.Struct decoded to plain JSON (Istio keys: NAMESPACE, LABELS, ...). */
  readonly metadata: Record<string, unknown>;
  readonly locality?: { readonly region?: string; readonly zone?: string; readonly subZone?: string };
  readonly userAgentName?: string;
  readonly userAgentVersion?: string;
  readonly clientFeatures: readonly string[];
}

/** The protocol flavour of a stream. */
export type AdsMode = 'sotw' | 'delta';

export interface StreamInfo {
  readonly nodeId: string;
  readonly node: NodeInfo;
  readonly streamId: number;
  readonly mode: AdsMode;
}

export interface AckInfo {
  readonly nodeId: string;
  readonly streamId: number;
  readonly typeUrl: TypeUrl;
  /** The version the client now runs (SotW `version_info`; delta `system_version_info` of the ACKed response). */
  readonly version: string;
  readonly nonce: string;
}

export interface NackInfo extends AckInfo {
  /** google.rpc.Status the client sent; `message` lists why it rejected the config. */
  readonly errorDetail: { readonly code: number; readonly message: string };
}

/** One response written on a stream. */
export interface PushInfo {
  readonly nodeId: string;
  readonly streamId: number;
  readonly typeUrl: TypeUrl;
  readonly version: string;
  readonly nonce: string;
  /** Resources carried (SotW: the full view; delta: changed ones only). */
  readonly resourceCount: number;
  /** Delta `removed_resources` entries (always 0 for SotW). */
  readonly removedCount: number;
}

/** The last NACK of one type on one stream. `at` is from the server's clock (ms). */
export interface NackRecord {
  readonly version: string;
  readonly nonce: string;
  readonly message: string;
  readonly at: number;
}

/** Per-type push state on one stream, for /debug/syncz. */
export interface TypeSyncStatus {
  readonly sentVersion: string;
  readonly sentNonce: string;
  readonly ackedVersion: string;
  /** NACKs of this type on this stream (always set by the server; optional so hand-built statuses stay valid). */
  readonly nackCount?: number;
  readonly lastNack?: NackRecord;
}

export interface ProxySyncStatus {
  readonly nodeId: string;
  readonly streamId: number;
  readonly mode: AdsMode;
  readonly types: Partial<Record<TypeUrl, TypeSyncStatus>>;
}

export interface AdsServerOptions {
  /** Where snapshots come from; the server uses only `watch` and `getSnapshot`. */
  cache: Pick<SnapshotCache, 'watch' | 'getSnapshot'>;
  logger?: Logger;
  /**
   * Vets the node of a new stream (from its first request). Return a reason
   * to refuse it: the stream ends with INVALID_ARGUMENT carrying the reason,
   * and `onStreamOpen` is not called. Return undefined to accept.
   */
  checkNode?(node: NodeInfo): string | undefined;
  onStreamOpen?(info: StreamInfo): void;
  onStreamClose?(info: StreamInfo): void;
  onAck?(info: AckInfo): void;
  onNack?(info: NackInfo): void;
  /** Called for every response written (for push metrics). */
  onPush?(info: PushInfo): void;
  /** Milliseconds since the epoch; default Date.now. */
  clock?: () => number;
  /** `control_plane.identifier` in responses; default `weft`. */
  controlPlaneId?: string;
  /**
   * Response bytes in flight over all streams (started in grpc-js, not yet
   * handed to their HTTP/2 connections) before further responses wait their
   * turn; default 32 MiB. Bounds off-heap memory when many proxies sync at
   * once; each stream keeps its order, a response larger than this goes alone.
   */
  maxInFlightBytes?: number;
}

export interface AdsServer {
  /** Registers envoy.service.discovery.v3.AggregatedDiscoveryService (SotW + delta) on a grpc-js server. */
  addToServer(server: grpc.Server): void;
  /** One entry per open stream that has sent its node. */
  syncStatus(): readonly ProxySyncStatus[];
  /** Nodes with an open stream (one entry per stream). */
  connectedNodes(): readonly NodeInfo[];
  /**
   * The write budget (`maxInFlightBytes`) now: response bytes started and not
   * yet handed to their connections, and responses waiting for room.
   */
  writeStatus(): { inFlightBytes: number; waitingWrites: number };
  /** Ends every open stream (status UNAVAILABLE) and stops watching the cache. Safe to repeat. */
  close(): void;
}
