/**
 * The ADS server: envoy.service.discovery.v3.AggregatedDiscoveryService on a
 * grpc-js server, SotW and delta, fed by a snapshot cache's watch interface.
 */
import type * as grpc from '@grpc/grpc-js';
import {
  ADS_SERVER_DEFINITION,
  type DeltaDiscoveryRequest,
  type DeltaDiscoveryResponse,
  type DiscoveryRequest,
  type DiscoveryResponse,
} from '../wire/ads-wire.ts';
import type { AdsServer, AdsServerOptions, NodeInfo, ProxySyncStatus } from './ads-server-types.ts';
import { createDeltaProtocol } from './delta-protocol.ts';
import { createSotwProtocol } from './sotw-protocol.ts';
import { runStream, type StreamHandle } from './stream-session.ts';
import { createWriteBudget } from './write-budget.ts';

const DEFAULT_MAX_IN_FLIGHT_BYTES = 32 * 2 ** 20;

/**
 * Creates the ADS server. One instance may be added to several grpc-js
 * servers (e.g. plaintext 15010 and TLS 15012); `syncStatus` covers all.
 */
export function createAdsServer(options: AdsServerOptions): AdsServer {
  const streams = new Set<StreamHandle>();
  const registry = {
    add: (handle: StreamHandle) => streams.add(handle),
    remove: (handle: StreamHandle) => streams.delete(handle),
    budget: createWriteBudget(options.maxInFlightBytes ?? DEFAULT_MAX_IN_FLIGHT_BYTES),
  };
  let closed = false;
  const implementation: grpc.UntypedServiceImplementation = {
    StreamAggregatedResources(call: grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>) {
      if (closed) {
        call.emit('error', { code: 14, details: 'server closed' });
        return;
      }
      runStream(call, 'sotw', options, createSotwProtocol, registry);
    },
    DeltaAggregatedResources(call: grpc.ServerDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse>) {
      if (closed) {
        call.emit('error', { code: 14, details: 'server closed' });
        return;
      }
      runStream(call, 'delta', options, createDeltaProtocol, registry);
    },
  };
  return {
    addToServer(server) {
      server.addService(ADS_SERVER_DEFINITION, implementation);
    },
    syncStatus() {
      const out: ProxySyncStatus[] = [];
      for (const handle of streams) {
        const status = handle.syncStatus();
        if (status) out.push(status);
      }
      return out;
    },
    connectedNodes() {
      const out: NodeInfo[] = [];
      for (const handle of streams) {
        const info = handle.info();
        if (info) out.push(info.node);
      }
      return out;
    },
    writeStatus: () => ({
      inFlightBytes: registry.budget.inFlightBytes(),
      waitingWrites: registry.budget.waitingWrites(),
    }),
    close() {
      closed = true;
      for (const handle of [...streams]) handle.close();
    },
  };
}
