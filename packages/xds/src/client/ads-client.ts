/**
 * The ADS client: one stream (SotW or delta) to an ADS server, with
 * subscriptions per type, ACK/NACK through a validation callback,
 * reconnection with exponential backoff and jitter, and the last good
 * resources kept while disconnected. The proxy and the tests use it.
 */
import * as grpc from '@grpc/grpc-js';
import type { Resource } from '../resources/resource.ts';
import { isTypeUrl, PUSH_ORDER, TYPE_SHORT_NAMES, type TypeUrl } from '../type-urls.ts';
import {
  ADS_SERVICE_DEFINITION,
  type DeltaDiscoveryRequest,
  type DeltaDiscoveryResponse,
  type DiscoveryRequest,
  type DiscoveryResponse,
  type WireNode,
} from '../wire/ads-wire.ts';
import type { AdsClient, AdsClientOptions, ConnectionState, ResponseInfo } from './ads-client-types.ts';
import { createBackoff } from './backoff.ts';
import type { ResponseOutcome } from './client-outcome.ts';
import { type ClientTypeState, newTypeState } from './client-type-state.ts';
import {
  deltaOpeningRequest,
  deltaSubscriptionRequest,
  handleDeltaResponse,
} from './delta-client-protocol.ts';
import { handleSotwResponse, sotwRequest } from './sotw-client-protocol.ts';

type AnyRequest = DiscoveryRequest | DeltaDiscoveryRequest;
type AnyResponse = DiscoveryResponse | DeltaDiscoveryResponse;

interface AdsStub extends grpc.Client {
  StreamAggregatedResources(): grpc.ClientDuplexStream<DiscoveryRequest, DiscoveryResponse>;
  DeltaAggregatedResources(): grpc.ClientDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse>;
}

const AdsStubConstructor = grpc.makeGenericClientConstructor(
  ADS_SERVICE_DEFINITION,
  'AggregatedDiscoveryService',
) as unknown as new (
  address: string,
  credentials: grpc.ChannelCredentials,
  options?: grpc.ChannelOptions,
) => AdsStub;

const EMPTY: ReadonlyMap<string, Resource> = new Map();

/** Resource bytes and counts of one response, for `onResponse`. */
function responseInfo(mode: 'sotw' | 'delta', response: AnyResponse): ResponseInfo {
  let resourceBytes = 0;
  if (mode === 'sotw') {
    const { resources = [] } = response as DiscoveryResponse;
    for (const any of resources) resourceBytes += any.value?.length ?? 0;
    return { resourceBytes, resources: resources.length, removed: 0 };
  }
  const { resources = [], removedResources = [] } = response as DeltaDiscoveryResponse;
  for (const entry of resources) resourceBytes += entry.resource?.value?.length ?? 0;
  return { resourceBytes, resources: resources.length, removed: removedResources.length };
}

/** Creates a client; nothing happens until `start()`. */
export function createAdsClient(options: AdsClientOptions): AdsClient {
  const mode = options.mode ?? 'sotw';
  const logger = options.logger?.child({ nodeId: options.node.id, mode });
  const backoff = createBackoff(options.backoff, options.random);
  const types = new Map<TypeUrl, ClientTypeState>();
  const listeners = new Set<(state: ConnectionState) => void>();
  const node: WireNode = {
    id: options.node.id,
    cluster: options.node.cluster ?? '',
    metadata: options.node.metadata ?? {},
    ...(options.node.locality ? { locality: options.node.locality } : {}),
    userAgentName: options.node.userAgentName ?? 'weft',
    ...(options.node.userAgentVersion ? { userAgentVersion: options.node.userAgentVersion } : {}),
  };
  let connection: ConnectionState = 'idle';
  let stub: AdsStub | undefined;
  let call: grpc.ClientDuplexStream<AnyRequest, AnyResponse> | undefined;
  let nodeSent = false;
  let reconnectTimer: ReturnType<typeof setTimeout> | undefined;

  const setConnection = (next: ConnectionState): void => {
    if (connection === next) return;
    connection = next;
    logger?.info('ads connection', { state: next });
    for (const listener of [...listeners]) listener(next);
  };

  const write = (request: AnyRequest): void => {
    if (!call) return;
    call.write(nodeSent ? request : { ...request, node });
    nodeSent = true;
  };

  const openingRequest = (typeUrl: TypeUrl, state: ClientTypeState): AnyRequest =>
    mode === 'sotw' ? sotwRequest(typeUrl, state) : deltaOpeningRequest(typeUrl, state);

  const onResponse = (response: AnyResponse): void => {
    setConnection('connected');
    backoff.reset();
    const typeUrl = response.typeUrl ?? '';
    const state = isTypeUrl(typeUrl) ? types.get(typeUrl) : undefined;
    if (!isTypeUrl(typeUrl) || !state) {
      logger?.warn('ignoring a response for a type not subscribed', { typeUrl });
      return;
    }
    if (options.onResponse) options.onResponse(typeUrl, responseInfo(mode, response));
    const outcome: ResponseOutcome<AnyRequest> =
      mode === 'sotw'
        ? handleSotwResponse(typeUrl, state, response as DiscoveryResponse, options)
        : handleDeltaResponse(typeUrl, state, response as DeltaDiscoveryResponse, options);
    if (outcome.kind === 'ignore') return;
    write(outcome.request);
    if (outcome.kind === 'nack') {
      logger?.warn('nack', {
        type: TYPE_SHORT_NAMES[typeUrl],
        version: outcome.version,
        problems: outcome.problems,
      });
      options.onNack?.(typeUrl, {
        version: outcome.version,
        nonce: response.nonce ?? '',
        problems: outcome.problems,
      });
      return;
    }
    logger?.debug('ack', { type: TYPE_SHORT_NAMES[typeUrl], version: outcome.update.version });
    options.onUpdate?.(typeUrl, outcome.update);
  };

  const lost = (stream: grpc.ClientDuplexStream<AnyRequest, AnyResponse>, reason: string): void => {
    if (call !== stream) return;
    call = undefined;
    if (connection === 'closed') return;
    setConnection('disconnected');
    const delay = backoff.next();
    logger?.warn('ads stream lost; reconnecting', { reason, delayMs: delay });
    reconnectTimer = setTimeout(open, delay);
  };

  function open(): void {
    reconnectTimer = undefined;
    if (connection === 'closed') return;
    stub ??= new AdsStubConstructor(
      options.address,
      options.credentials ?? grpc.credentials.createInsecure(),
      options.channelOptions,
    );
    setConnection('connecting');
    const stream = (
      mode === 'sotw' ? stub.StreamAggregatedResources() : stub.DeltaAggregatedResources()
    ) as grpc.ClientDuplexStream<AnyRequest, AnyResponse>;
    call = stream;
    nodeSent = false;
    stream.on('data', (response: AnyResponse) => {
      if (call === stream) onResponse(response);
    });
    // 'error' always follows a non-OK status; 'status' covers a server that ends with OK.
    stream.on('error', (error: grpc.ServiceError) => lost(stream, error.details || error.message));
    stream.on('status', (status: grpc.StatusObject) =>
      lost(stream, `status ${status.code}: ${status.details}`),
    );
    for (const state of types.values()) state.nonce = '';
    for (const typeUrl of PUSH_ORDER) {
      const state = types.get(typeUrl);
      if (state) write(openingRequest(typeUrl, state));
    }
  }

  const dropResources = (typeUrl: TypeUrl, state: ClientTypeState, names: readonly string[]): void => {
    const removed = names.filter((name) => state.resources.has(name));
    if (removed.length === 0) return;
    const next = new Map(state.resources);
    for (const name of removed) {
      next.delete(name);
      state.resourceVersions.delete(name);
    }
    state.resources = next;
    options.onUpdate?.(typeUrl, { resources: next, version: state.version, removed });
  };

  return {
    subscribe(typeUrl, names) {
      let state = types.get(typeUrl);
      const isNew = !state;
      state ??= newTypeState();
      types.set(typeUrl, state);
      const added = (names ?? []).filter((name) => !state.names.has(name));
      for (const name of added) state.names.add(name);
      const wildcardAdded = names === undefined && !state.wildcard;
      if (wildcardAdded) state.wildcard = true;
      if (!call || (!isNew && !wildcardAdded && added.length === 0)) return;
      if (mode === 'sotw' || isNew) write(openingRequest(typeUrl, state));
      else write(deltaSubscriptionRequest(typeUrl, wildcardAdded ? ['*', ...added] : added, []));
    },
    unsubscribe(typeUrl, names) {
      const state = types.get(typeUrl);
      if (!state) return;
      if (names === undefined) {
        types.delete(typeUrl);
        if (call && mode === 'delta') write(deltaSubscriptionRequest(typeUrl, [], ['*', ...state.names]));
        else if (call && state.names.size > 0) write({ ...sotwRequest(typeUrl, state), resourceNames: [] });
        dropResources(typeUrl, state, [...state.resources.keys()]);
        return;
      }
      const gone = names.filter((name) => state.names.delete(name));
      if (gone.length === 0) return;
      if (call)
        write(mode === 'sotw' ? sotwRequest(typeUrl, state) : deltaSubscriptionRequest(typeUrl, [], gone));
      if (!state.wildcard) dropResources(typeUrl, state, gone);
    },
    resources: (typeUrl) => types.get(typeUrl)?.resources ?? EMPTY,
    version: (typeUrl) => types.get(typeUrl)?.version ?? '',
    connectionState: () => connection,
    onConnectionState(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    start() {
      if (connection !== 'idle') return;
      open();
    },
    close() {
      if (connection === 'closed') return;
      setConnection('closed');
      if (reconnectTimer) clearTimeout(reconnectTimer);
      const stream = call;
      call = undefined;
      stream?.cancel();
      stub?.close();
    },
  };
}
