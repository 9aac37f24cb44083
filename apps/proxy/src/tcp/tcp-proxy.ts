/**
 * The TCP proxy network filter (envoy.filters.network.tcp_proxy): picks a
 * (weighted) cluster and a host, connects within the cluster's connect
 * timeout, and splices both directions with backpressure (pipe), closing
 * both sides on error, half-close propagation, or the idle timeout.
 */

import type { Socket } from 'node:net';
import net from 'node:net';
import tls from 'node:tls';
import { originalDestinationOf } from '../capture/original-dst.ts';
import type { TcpProxyConfig } from '../config/listener-config.ts';
import { chooseTransport } from '../config/transport-socket-config.ts';
import { meshTlsConnect, type SecureContexts } from '../tls/tls-runtime.ts';
import type { ClusterManager, UpstreamCluster } from '../upstream/cluster-manager.ts';
import { Host } from '../upstream/host-set.ts';

/** What a finished TCP session reports (access log, metrics). */
export interface TcpSessionRecord {
  readonly cluster: string;
  readonly upstreamHost: string;
  /** Bytes received from downstream / sent to downstream. */
  readonly receivedBytes: number;
  readonly sentBytes: number;
  /** `UH` no healthy upstream, `UF` connect failure, `NC` no cluster, `-` none. */
  readonly flags: string;
}

export interface TcpProxyServices {
  readonly clusters: ClusterManager;
  random(): number;
  onSessionComplete(record: TcpSessionRecord): void;
}

/** Proxies one downstream connection (already sniffed; buffered bytes unshifted). Never throws. */
export function proxyTcp(config: TcpProxyConfig, downstream: Socket, services: TcpProxyServices): void {
  let ticket = services.random() * config.clusters.reduce((s, c) => s + c.weight, 0);
  let clusterName = config.clusters[0]?.name ?? '';
  for (const c of config.clusters) {
    if (ticket < c.weight) {
      clusterName = c.name;
      break;
    }
    ticket -= c.weight;
  }
  let flags = '-';
  let upstreamHost = '';
  let upstream: Socket | undefined;
  let reported = false;
  const report = (): void => {
    if (reported) return;
    reported = true;
    services.onSessionComplete({
      cluster: clusterName,
      upstreamHost,
      receivedBytes: downstream.bytesRead,
      sentBytes: downstream.bytesWritten,
      flags,
    });
  };
  downstream.on('error', () => downstream.destroy());
  downstream.once('close', () => {
    upstream?.destroy();
    report();
  });
  const cluster = services.clusters.get(clusterName);
  const host = cluster && pickHost(cluster, downstream);
  if (!cluster || !host) {
    flags = cluster ? 'UH' : 'NC';
    downstream.destroy();
    return;
  }
  upstreamHost = host.key;
  host.active++;
  const localAddress = cluster.config.sourceAddress;
  const target = {
    host: host.address,
    port: host.port,
    allowHalfOpen: true,
    ...(localAddress ? { localAddress } : {}),
  };
  const tlsOptions = upstreamTcpTls(cluster, host, services.clusters.secureContexts);
  if (typeof tlsOptions === 'string') {
    flags = 'UF';
    host.active--;
    downstream.destroy();
    return;
  }
  const socket = tlsOptions ? tls.connect({ ...target, ...tlsOptions }) : net.connect(target);
  upstream = socket;
  socket.setTimeout(cluster.config.connectTimeoutMs, () => {
    if (socket.connecting) socket.destroy(new Error('connect timeout'));
  });
  socket.once('close', () => {
    host.active--;
    downstream.destroy();
  });
  socket.on('error', () => {
    if (socket.connecting || socket.bytesWritten === 0) {
      flags = 'UF';
      cluster.recordOutcome(host, 'gateway-failure');
    }
    socket.destroy();
  });
  socket.once(tlsOptions ? 'secureConnect' : 'connect', () => {
    cluster.recordOutcome(host, 'success');
    socket.setTimeout(config.idleTimeoutMs, () => {
      socket.destroy();
      downstream.destroy();
    });
    if (config.idleTimeoutMs > 0) downstream.setTimeout(config.idleTimeoutMs, () => downstream.destroy());
    downstream.pipe(socket);
    socket.pipe(downstream);
    downstream.resume();
  });
}

/**
 * The upstream host: the load balancer's pick, or for an ORIGINAL_DST
 * cluster (Istio's PassthroughCluster) the address the client dialled, as
 * SO_ORIGINAL_DST reported it (none for a connection that was not
 * redirected: `UH`).
 */
function pickHost(cluster: UpstreamCluster, downstream: Socket): Host | undefined {
  if (cluster.config.type !== 'ORIGINAL_DST') return cluster.hostSet.pick(undefined);
  const destination = originalDestinationOf(downstream);
  if (!destination) return undefined;
  const key = `${destination.host}:${destination.port}`;
  return new Host({
    address: destination.host,
    port: destination.port,
    key,
    health: 'HEALTHY',
    weight: 1,
    socketMatch: {},
  });
}

/**
 * The TLS options toward `host` when its transport (the cluster's
 * transportSocket or the endpoint's transport socket match) is TLS: mesh
 * mTLS from the agent's secrets, or plain TLS with SNI; undefined for
 * plaintext; a string (the reason) when the transport cannot be used.
 */
function upstreamTcpTls(
  cluster: UpstreamCluster,
  host: Host,
  contexts: SecureContexts,
): tls.ConnectionOptions | string | undefined {
  const transport = chooseTransport(cluster.config.socketMatches, cluster.config.tls, host.endpoint);
  if (transport.unavailable) return transport.unavailable;
  if (!transport.tls) return undefined;
  try {
    return (
      meshTlsConnect(transport.tls, contexts)?.([]) ?? {
        servername: transport.tls.sni ?? '',
        rejectUnauthorized: false,
        ALPNProtocols: [...transport.tls.alpn],
      }
    );
  } catch (error) {
    return (error as Error).message;
  }
}
