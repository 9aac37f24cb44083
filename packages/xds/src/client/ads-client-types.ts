/** Public types of the ADS client. */
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from '@weft/telemetry';
import type { Resource } from '../resources/resource.ts';
import type { AdsMode } from '../server/ads-server-types.ts';
import type { TypeUrl } from '../type-urls.ts';
import type { BackoffOptions } from './backoff.ts';

/** What the validation callback learns about the response it judges. */
export interface ValidationContext {
  readonly mode: AdsMode;
  /** SotW `version_info` or delta `system_version_info` of the response. */
  readonly version: string;
  readonly nonce: string;
  /** Delta: names the response removes. SotW full-state types: names missing from the new set. */
  readonly removed: readonly string[];
  /** The resources currently applied for this type (the last good set). */
  readonly current: ReadonlyMap<string, Resource>;
}

/** The applied state of one type after an accepted response. */
export interface TypeUpdate {
  readonly resources: ReadonlyMap<string, Resource>;
  readonly version: string;
  readonly removed: readonly string[];
}

/** What `onResponse` learns about one response. */
export interface ResponseInfo {
  /** Sum of the encoded resource bytes (Any values) in the response. */
  readonly resourceBytes: number;
  readonly resources: number;
  /** Delta `removed_resources` count (0 for SotW). */
  readonly removed: number;
}

export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'disconnected' | 'closed';

export interface AdsClientNode {
  id: string;
  cluster?: string;
  metadata?: Record<string, unknown>;
  locality?: { region?: string; zone?: string; subZone?: string };
  userAgentName?: string;
  userAgentVersion?: string;
}

export interface AdsClientOptions {
  /** `host:port` of the ADS server. */
  address: string;
  /** Default: insecure. */
  credentials?: grpc.ChannelCredentials;
  channelOptions?: grpc.ChannelOptions;
  node: AdsClientNode;
  /** Default `sotw`. */
  mode?: AdsMode;
  /**
   * Judges the resources of a response before they are applied. Return the
   * problems (empty = accept). Non-empty: the client NACKs with the problems
   * joined as `error_detail.message` and keeps the last good resources.
   * A throwing callback counts as one problem.
   */
  validate?(typeUrl: TypeUrl, resources: readonly Resource[], context: ValidationContext): readonly string[];
  /**
   * Decoded resources by digest of their bytes, looked up before decoding and
   * filled after: clients in one process that pass the same map (a load tool
   * running hundreds of proxies) decode each distinct resource once. The
   * caller owns the map and its size. Default: none (each client keeps only
   * its applied resources).
   */
  decodeCache?: Map<string, Resource>;
  /** Called after an accepted response was applied. */
  onUpdate?(typeUrl: TypeUrl, update: TypeUpdate): void;
  /**
   * Called for every response of a subscribed type as it arrives, before it
   * is judged: the sum of its resources' encoded bytes (Any values) and how
   * many resources and removals it carried. For load tools and metrics.
   */
  onResponse?(typeUrl: TypeUrl, info: ResponseInfo): void;
  /** Called after the client NACKed a response. */
  onNack?(typeUrl: TypeUrl, info: { version: string; nonce: string; problems: readonly string[] }): void;
  backoff?: BackoffOptions;
  logger?: Logger;
  /** [0, 1) source for backoff jitter; default Math.random. */
  random?: () => number;
}

export interface AdsClient {
  /**
   * Subscribes to `names` of a type, or to all of it (wildcard) when `names`
   * is omitted. Adds to earlier subscriptions. Safe to repeat.
   */
  subscribe(typeUrl: TypeUrl, names?: readonly string[]): void;
  /** Drops `names` (or the whole type when omitted) and forgets their resources. */
  unsubscribe(typeUrl: TypeUrl, names?: readonly string[]): void;
  /** The last good resources of a type; kept while disconnected. */
  resources(typeUrl: TypeUrl): ReadonlyMap<string, Resource>;
  /** The last accepted version of a type (`''` before any). */
  version(typeUrl: TypeUrl): string;
  connectionState(): ConnectionState;
  /** Listens to connection state changes; returns the unsubscribe function. */
  onConnectionState(listener: (state: ConnectionState) => void): () => void;
  /** Opens the stream (and reopens it with backoff until `close`). Safe to repeat. */
  start(): void;
  /** Ends the stream and the channel; no more reconnects. Safe to repeat. */
  close(): void;
}
