/**
 * What SotW and delta streams share: binding the node from the first
 * request, watching the node's snapshot, routing requests by type URL,
 * ACK/NACK bookkeeping hooks, and closing cleanly. The protocol state
 * machines (`sotw-protocol.ts`, `delta-protocol.ts`) plug in here.
 */
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '@weft/telemetry';
import type { Snapshot } from '../cache/snapshot.ts';
import { isTypeUrl, TYPE_SHORT_NAMES, type TypeUrl } from '../type-urls.ts';
import type { WireNode, WireStatus } from '../wire/ads-wire.ts';
import type {
  AdsMode,
  AdsServerOptions,
  NackRecord,
  NodeInfo,
  ProxySyncStatus,
  StreamInfo,
  TypeSyncStatus,
} from './ads-server-types.ts';
import { nodeInfoFromWire } from './node-info.ts';
import type { WriteBudget } from './write-budget.ts';

/** Bytes of a response's own fields (version, nonce, type URL...) besides its encoded resources: an estimate. */
const RESPONSE_HEAD_BYTES = 128;

/** The encoded size of a response carrying `chunks`, for the write budget. */
export function responseBytes(chunks: readonly Uint8Array[]): number {
  let bytes = RESPONSE_HEAD_BYTES;
  for (const chunk of chunks) bytes += chunk.byteLength;
  return bytes;
}

/** The per-type bookkeeping both protocols keep for /debug/syncz and hooks. */
export interface TypeStatusRecord {
  sentVersion: string;
  sentNonce: string;
  ackedVersion: string;
  nackCount: number;
  lastNack?: NackRecord;
}

/** What a protocol state machine sees of its stream. */
export interface StreamContext<Res> {
  readonly streamId: number;
  readonly logger: Logger | undefined;
  readonly clock: () => number;
  readonly controlPlaneId: string;
  node(): NodeInfo;
  /** The node's current snapshot, if the cache has one. */
  snapshot(): Snapshot | undefined;
  /**
   * Writes a response in this stream's order, when the server's write budget
   * has room for `bytes` (its encoded size, roughly).
   */
  write(response: Res, bytes: number): void;
  /** Records an ACK and calls the hook. */
  ack(typeUrl: TypeUrl, version: string, nonce: string): void;
  /** Records a NACK (version = the rejected one), logs it and calls the hook. */
  nack(typeUrl: TypeUrl, version: string, nonce: string, detail: WireStatus): void;
  status(typeUrl: TypeUrl): TypeStatusRecord;
  /** Allocates the nonce of a response about to be written, records it as the type's latest, reports the push. */
  recordSent(typeUrl: TypeUrl, version: string, resourceCount: number, removedCount: number): string;
}

export interface StreamProtocol<Req> {
  onRequest(request: Req, typeUrl: TypeUrl): void;
  onSnapshot(snapshot: Snapshot): void;
}

interface RequestCommon {
  node?: WireNode;
  typeUrl?: string;
}

/** A live stream, as the server tracks it. */
export interface StreamHandle {
  readonly info: () => StreamInfo | undefined;
  readonly syncStatus: () => ProxySyncStatus | undefined;
  readonly close: () => void;
}

let nextStreamId = 1;

/**
 * Runs one ADS stream until the client ends it or `close` is called.
 * Never throws into grpc-js: a request that breaks the protocol (no node id
 * on the first request) ends the stream with INVALID_ARGUMENT; unknown type
 * URLs are logged and ignored; an internal error ends the stream with INTERNAL.
 */
export function runStream<Req extends RequestCommon, Res>(
  call: grpc.ServerDuplexStream<Req, Res>,
  mode: AdsMode,
  options: AdsServerOptions,
  makeProtocol: (context: StreamContext<Res>) => StreamProtocol<Req>,
  registry: { add(handle: StreamHandle): void; remove(handle: StreamHandle): void; budget: WriteBudget },
): void {
  const streamId = nextStreamId++;
  const clock = options.clock ?? Date.now;
  let logger = options.logger?.child({ streamId, mode });
  let node: NodeInfo | undefined;
  let info: StreamInfo | undefined;
  let unwatch: (() => void) | undefined;
  let closed = false;
  const statuses = new Map<TypeUrl, TypeStatusRecord>();
  let nonceCounter = 0;
  const ackedNonces = new Map<TypeUrl, string>();
  const writes = registry.budget.queue();

  const status = (typeUrl: TypeUrl): TypeStatusRecord => {
    let record = statuses.get(typeUrl);
    if (!record) {
      record = { sentVersion: '', sentNonce: '', ackedVersion: '', nackCount: 0 };
      statuses.set(typeUrl, record);
    }
    return record;
  };

  const context: StreamContext<Res> = {
    streamId,
    get logger() {
      return logger;
    },
    clock,
    controlPlaneId: options.controlPlaneId ?? 'weft',
    node: () => node as NodeInfo,
    snapshot: () => (node ? options.cache.getSnapshot(node.id) : undefined),
    write(response, bytes) {
      if (closed) return;
      writes.push(bytes, (done) => {
        if (closed) done();
        else call.write(response, () => done());
      });
    },
    ack(typeUrl, version, nonce) {
      const record = status(typeUrl);
      // A SotW subscription change re-sends the last nonce: not a new ACK.
      if (ackedNonces.get(typeUrl) === nonce) return;
      ackedNonces.set(typeUrl, nonce);
      record.ackedVersion = version;
      logger?.debug('ack', { type: TYPE_SHORT_NAMES[typeUrl], version, nonce });
      options.onAck?.({ nodeId: (node as NodeInfo).id, streamId, typeUrl, version, nonce });
    },
    nack(typeUrl, version, nonce, detail) {
      const errorDetail = { code: detail.code ?? 0, message: detail.message ?? '' };
      const record = status(typeUrl);
      record.nackCount += 1;
      record.lastNack = { version, nonce, message: errorDetail.message, at: clock() };
      logger?.warn('nack', { type: TYPE_SHORT_NAMES[typeUrl], version, nonce, error: errorDetail.message });
      options.onNack?.({ nodeId: (node as NodeInfo).id, streamId, typeUrl, version, nonce, errorDetail });
    },
    status,
    recordSent(typeUrl, version, resourceCount, removedCount) {
      const record = status(typeUrl);
      record.sentVersion = version;
      record.sentNonce = String(++nonceCounter);
      const nodeId = (node as NodeInfo).id;
      options.onPush?.({
        nodeId,
        streamId,
        typeUrl,
        version,
        nonce: record.sentNonce,
        resourceCount,
        removedCount,
      });
      return record.sentNonce;
    },
  };
  const protocol = makeProtocol(context);

  const handle: StreamHandle = {
    info: () => info,
    syncStatus: () => {
      if (!node) return undefined;
      const types: Partial<Record<TypeUrl, TypeSyncStatus>> = {};
      for (const [typeUrl, record] of statuses) types[typeUrl] = { ...record };
      return { nodeId: node.id, streamId, mode, types };
    },
    close: () => fail(grpc.status.UNAVAILABLE, 'server shutting down'),
  };

  const cleanup = (): void => {
    if (closed) return;
    closed = true;
    writes.close();
    unwatch?.();
    registry.remove(handle);
    if (info) options.onStreamClose?.(info);
    logger?.info('stream closed');
  };

  function fail(code: grpc.status, details: string): void {
    if (closed) return;
    logger?.warn('ending stream', { code: grpc.status[code], details });
    cleanup();
    call.emit('error', Object.assign(new Error(details), { code, details }));
  }

  const onRequest = (request: Req): void => {
    if (closed) return;
    if (!node) {
      node = nodeInfoFromWire(request.node);
      if (!node) {
        fail(grpc.status.INVALID_ARGUMENT, 'the first request on a stream must carry node.id');
        return;
      }
      const refusal = options.checkNode?.(node);
      if (refusal !== undefined) {
        logger = logger?.child({ nodeId: node.id });
        node = undefined;
        fail(grpc.status.INVALID_ARGUMENT, `node refused: ${refusal}`);
        return;
      }
      info = { nodeId: node.id, node, streamId, mode };
      logger = logger?.child({ nodeId: node.id });
      logger?.info('stream opened');
      options.onStreamOpen?.(info);
      unwatch = options.cache.watch(node.id, (snapshot) => {
        if (!closed) protocol.onSnapshot(snapshot);
      });
    }
    const typeUrl = request.typeUrl ?? '';
    if (!isTypeUrl(typeUrl)) {
      logger?.warn('ignoring request for an unknown type URL', { typeUrl });
      return;
    }
    protocol.onRequest(request, typeUrl);
  };

  registry.add(handle);
  call.on('data', (request: Req) => {
    try {
      onRequest(request);
    } catch (error) {
      logger?.error('internal error handling a request', { error });
      fail(grpc.status.INTERNAL, 'internal error');
    }
  });
  call.on('end', () => {
    cleanup();
    call.end();
  });
  call.on('error', () => cleanup());
  call.on('cancelled', () => cleanup());
  call.on('close', () => cleanup());
}
