/**
 * Binds the listeners LDS names and hands each accepted connection to a
 * filter chain: destination port first, then (when any candidate chain
 * needs it, or HTTP must tell HTTP/1 from HTTP/2) the first bytes are
 * sniffed, put back on the socket, and the chain's HTTP connection manager
 * or TCP proxy takes over.
 *
 * Capture (Envoy's semantics): a listener that recovers original
 * destinations (original_dst listener filter or `useOriginalDst`) matches
 * filter chains on the original destination port. A `useOriginalDst`
 * listener (Istio's virtualOutbound) hands each connection to the listener
 * whose address is the original destination ip:port, else to a
 * `bindToPort: false` listener on 0.0.0.0:port (or [::]:port), else keeps
 * it on its own chains (PassthroughCluster). Listeners with
 * `bindToPort: false` are therefore kept (unbound) to receive hand-offs.
 *
 * Updates are make-before-break: a listener whose address is unchanged
 * keeps its socket and switches new connections to the new chains; the old
 * chains drain (HTTP keep-alive stops, HTTP/2 GOAWAY) and are destroyed
 * after the drain period. A moved listener is bound anew before the old
 * one stops accepting.
 */

import type { Socket } from 'node:net';
import net from 'node:net';
import {
  createOriginalDstReader,
  type OriginalDstReader,
  type SocketAddress,
  setOriginalDestination,
} from '../capture/original-dst.ts';
import type { FilterChainConfig, ListenerConfig } from '../config/listener-config.ts';
import { HttpConnectionManagerRuntime, type ProxyServices } from '../http/http-connection-manager.ts';
import { networkRbacAllows } from '../security/network-rbac.ts';
import { proxyTcp, type TcpProxyServices } from '../tcp/tcp-proxy.ts';
import { SecureContexts, setPeerIdentity, terminateTls } from '../tls/tls-runtime.ts';
import { chainsForPort, needsSniff, selectFilterChain } from './filter-chain-selector.ts';
import { NO_DATA, type SniffResult, sniff } from './protocol-sniffer.ts';
import { ReplaySocket } from './replay-socket.ts';

export interface ListenerManagerOptions {
  readonly services: ProxyServices & TcpProxyServices;
  /** Local mode: bind these listeners elsewhere than their LDS address (by listener name). */
  readonly addressOverrides?: ReadonlyMap<string, { host: string; port: number }>;
  /** How long old chains may finish their work before being destroyed (default 5 s). */
  readonly drainTimeMs?: number;
  /** Bind with SO_REUSEPORT (worker processes sharing a port; Linux). */
  readonly reusePort?: boolean;
  /** Reads captured connections' original destinations (default: their local address). */
  readonly originalDestination?: OriginalDstReader;
  /** How long to wait for a connection's first bytes before treating it as raw TCP (default 5 s). */
  readonly sniffTimeoutMs?: number;
  /** Certificates for filter chains that terminate TLS (from the identity agent). */
  readonly secureContexts?: SecureContexts;
  /** Reports bind failures, refused TLS handshakes and other listener events. */
  readonly onEvent?: (event: {
    type: 'bound' | 'bind-failed' | 'removed' | 'tls-failed';
    listener: string;
    detail?: string;
  }) => void;
}

class ChainRuntime {
  readonly config: FilterChainConfig;
  readonly hcm: HttpConnectionManagerRuntime | undefined;
  readonly sockets = new Set<Socket>();

  constructor(config: FilterChainConfig, listener: ListenerConfig, services: ProxyServices) {
    this.config = config;
    this.hcm =
      config.network.kind === 'http'
        ? new HttpConnectionManagerRuntime(config.network, listener, services)
        : undefined;
  }

  drain(): void {
    this.hcm?.drain();
  }

  destroy(): void {
    this.hcm?.destroy();
    for (const socket of this.sockets) socket.destroy();
  }
}

/** A listener as the target of a hand-off. */
export interface ConnectionTarget {
  /** Serves `socket` on this listener's chains, matching `port` (the destination port). */
  onConnection(socket: Socket, port: number): void;
}

/** One listener: bound to its address, or (bindToPort: false) only reached by hand-off. */
class ActiveListener implements ConnectionTarget {
  config: ListenerConfig;
  readonly server: net.Server;
  private chains = new Map<FilterChainConfig, ChainRuntime>();
  private readonly manager: ListenerManager;

  constructor(config: ListenerConfig, manager: ListenerManager) {
    this.config = config;
    this.manager = manager;
    // Half-close must propagate (TCP proxy); node:http expects allowHalfOpen too.
    this.server = net.createServer({ allowHalfOpen: true }, (socket) => this.accept(socket));
    this.server.on('error', () => {});
  }

  /** A new connection on this listener's socket: recover its destination, maybe hand it off. */
  private accept(socket: Socket): void {
    socket.on('error', () => socket.destroy());
    if (!this.config.recoverOriginalDst) {
      this.onConnection(socket, socket.localPort ?? 0);
      return;
    }
    const destination = this.manager.originalDestination(socket);
    setOriginalDestination(socket, destination);
    const target = this.config.useOriginalDst ? this.manager.handOffTarget(destination, this) : undefined;
    if (target) target.onConnection(socket, destination.port);
    else this.onConnection(socket, destination.port);
  }

  listen(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      this.server.once('error', onError);
      this.server.listen({ host, port, reusePort: this.manager.reusePort }, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
  }

  /** Switches new connections to `config`'s chains; returns the old chains (to drain). */
  update(config: ListenerConfig): ChainRuntime[] {
    this.config = config;
    const old = [...this.chains.values()];
    this.chains = new Map();
    return old;
  }

  allChains(): ChainRuntime[] {
    return [...this.chains.values()];
  }

  private runtime(chain: FilterChainConfig): ChainRuntime {
    let runtime = this.chains.get(chain);
    if (!runtime) {
      runtime = new ChainRuntime(chain, this.config, this.manager.services);
      this.chains.set(chain, runtime);
    }
    return runtime;
  }

  onConnection(socket: Socket, port: number): void {
    const config = this.config;
    const candidates = chainsForPort(config, port);
    if (!needsSniff(candidates)) {
      const chain = candidates[0] ?? config.defaultFilterChain;
      this.dispatch(socket, chain, NO_DATA, config, port);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (result: SniffResult): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.pause();
      // The sniffed bytes go back into the socket's readable buffer. node:http reads them from
      // there, and so do native consumers: a TLSSocket built on this socket and an HTTP/2
      // session both drain a socket's buffered bytes into their native handle before reading it.
      if (size > 0) socket.unshift(Buffer.concat(chunks, size));
      this.dispatch(socket, selectFilterChain(config, port, result), result, config, port);
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      size += chunk.length;
      const result = sniff(Buffer.concat(chunks, size));
      if (result !== 'more') finish(result);
    };
    const onEnd = (): void =>
      finish(size > 0 ? (sniff(Buffer.concat(chunks, size)) as SniffResult) : NO_DATA);
    const timer = setTimeout(() => finish(size > 0 ? { ...NO_DATA } : NO_DATA), this.manager.sniffTimeoutMs);
    timer.unref();
    socket.on('data', onData);
    socket.once('end', onEnd);
  }

  private dispatch(
    socket: Socket,
    chain: FilterChainConfig | undefined,
    sniffed: SniffResult,
    config: ListenerConfig,
    port: number,
  ): void {
    if (!chain) {
      socket.destroy();
      return;
    }
    const runtime = this.config === config ? this.runtime(chain) : undefined;
    if (!runtime) {
      // The listener was updated while this connection was being sniffed: serve it with the new chains.
      this.onConnectionAgain(socket, port);
      return;
    }
    runtime.sockets.add(socket);
    socket.once('close', () => runtime.sockets.delete(socket));
    const network = chain.network;
    if (chain.tls) {
      this.manager.serveTls(socket, chain, runtime.hcm, config.name, port);
      return;
    }
    if (!networkRbacAllows(chain.networkRbac, socket, port, undefined)) {
      socket.destroy();
      return;
    }
    if (network.kind === 'tcp') {
      proxyTcp(network, socket, this.manager.services);
      return;
    }
    // node:http2 consumes the socket's handle natively (buffered bytes first); resuming the JS
    // stream would hand those bytes to no one. node:http reads through the (paused) JS stream.
    if (sniffed.kind === 'http2' || network.codecType === 'HTTP2') serveHttp2(runtime.hcm!, socket);
    else {
      runtime.hcm!.handleHttp1(socket);
      socket.resume();
    }
  }

  private onConnectionAgain(socket: Socket, port: number): void {
    this.onConnection(socket, port);
    socket.resume();
  }

  close(): void {
    this.server.close();
  }
}

/**
 * Hands a socket to node:http2, which reads its native handle (bytes still
 * in the JS buffer first). The peer's FIN then reaches only the socket's JS
 * side, as 'end': without half-open the socket ends and the session closes,
 * as on a socket of http2's own server (listeners accept half-open for TCP).
 */
function serveHttp2(hcm: HttpConnectionManagerRuntime, socket: Socket): void {
  socket.allowHalfOpen = false;
  hcm.handleHttp2(socket);
}

/** All bound listeners by name. */
export class ListenerManager {
  readonly services: ProxyServices & TcpProxyServices;
  readonly sniffTimeoutMs: number;
  readonly reusePort: boolean;
  private readonly options: ListenerManagerOptions;
  /** Reads a captured connection's original destination. */
  readonly originalDestination: OriginalDstReader;
  private readonly active = new Map<string, ActiveListener>();
  /** `bindToPort: false` listeners without a local-mode address: reached only by hand-off. */
  private readonly unbound = new Map<string, ActiveListener>();
  /** Hand-off targets by LDS address `host:port`, and wildcard unbound listeners by port. */
  private byAddress = new Map<string, ActiveListener>();
  private wildcardByPort = new Map<number, ActiveListener>();
  private readonly draining = new Set<ChainRuntime>();
  private readonly drainTimeMs: number;
  private readonly secureContexts: SecureContexts;

  constructor(options: ListenerManagerOptions) {
    this.options = options;
    this.services = options.services;
    this.originalDestination = options.originalDestination ?? createOriginalDstReader(undefined);
    this.drainTimeMs = options.drainTimeMs ?? 5000;
    this.sniffTimeoutMs = options.sniffTimeoutMs ?? 5000;
    this.reusePort = options.reusePort ?? false;
    this.secureContexts = options.secureContexts ?? new SecureContexts(undefined);
  }

  /**
   * Terminates TLS on a chain with a DownstreamTlsContext (the sniffed
   * ClientHello is still readable from `socket`), then serves the decrypted
   * stream: HTTP/2 when ALPN chose h2, else HTTP/1; or the TCP proxy.
   */
  serveTls(
    socket: Socket,
    chain: FilterChainConfig,
    hcm: HttpConnectionManagerRuntime | undefined,
    listener: string,
    port: number,
  ): void {
    const tlsConfig = chain.tls!;
    const network = chain.network;
    terminateTls(
      socket,
      tlsConfig,
      this.secureContexts,
      (secure, peer) => {
        if (!networkRbacAllows(chain.networkRbac, socket, port, peer)) {
          secure.destroy();
          return;
        }
        if (network.kind === 'tcp') proxyTcp(network, secure, this.services);
        else if (secure.alpnProtocol === 'h2') serveHttp2(hcm!, secure);
        else if (network.codecType === 'HTTP2') {
          // An HTTP2 codec without h2 negotiated: node:http2 refuses a TLS socket whose ALPN is
          // not h2, so it gets a plain Duplex over the TLS socket (carrying the peer identity).
          const stream = new ReplaySocket(secure, Buffer.alloc(0));
          setPeerIdentity(stream, peer);
          hcm!.handleHttp2(stream);
        } else hcm!.handleHttp1(secure);
      },
      (reason) =>
        this.options.onEvent?.({ type: 'tls-failed', listener, detail: `${chain.name}: ${reason}` }),
    );
  }

  /** The address a listener is bound to (after overrides; port 0 resolved), or undefined. */
  address(name: string): { host: string; port: number } | undefined {
    const addr = this.active.get(name)?.server.address();
    return addr && typeof addr === 'object' ? { host: addr.address, port: addr.port } : undefined;
  }

  names(): string[] {
    return [...this.active.keys()];
  }

  /**
   * The listener a `useOriginalDst` listener hands a connection to: the one
   * whose LDS address is `destination`, else a `bindToPort: false` listener
   * on the wildcard address and the same port; never `from` itself.
   */
  handOffTarget(destination: SocketAddress, from: ConnectionTarget): ConnectionTarget | undefined {
    const exact = this.byAddress.get(`${destination.host}:${destination.port}`);
    if (exact && exact !== from) return exact;
    const wildcard = this.wildcardByPort.get(destination.port);
    return wildcard !== from ? wildcard : undefined;
  }

  private reindex(): void {
    const byAddress = new Map<string, ActiveListener>();
    const wildcardByPort = new Map<number, ActiveListener>();
    for (const listener of [...this.active.values(), ...this.unbound.values()]) {
      const { host, port } = listener.config.address;
      byAddress.set(`${host}:${port}`, listener);
      if (!listener.config.bindToPort && (host === '0.0.0.0' || host === '::'))
        wildcardByPort.set(port, listener);
    }
    this.byAddress = byAddress;
    this.wildcardByPort = wildcardByPort;
  }

  /** Keeps the unbound (hand-off only) listeners in step with `configs`. */
  private setUnbound(configs: ReadonlyMap<string, ListenerConfig>): void {
    for (const [name, config] of configs) {
      if (config.apiListener || this.bindable(name, config)) continue;
      const existing = this.unbound.get(name);
      if (existing?.config === config) continue;
      if (existing) this.drain(existing.update(config));
      else this.unbound.set(name, new ActiveListener(config, this));
    }
    for (const [name, listener] of this.unbound) {
      const wanted = configs.get(name);
      if (wanted && !wanted.apiListener && !this.bindable(name, wanted)) continue;
      this.unbound.delete(name);
      this.drain(listener.update(listener.config));
    }
  }

  /**
   * API listeners are never bound; `bindToPort: false` listeners (Istio's
   * per-port outbound listeners, reached through virtualOutbound under
   * capture) are bound only when local mode gives them an address.
   */
  private bindable(name: string, config: ListenerConfig): boolean {
    if (config.apiListener) return false;
    return config.bindToPort || this.options.addressOverrides?.has(name) === true;
  }

  private target(config: ListenerConfig): { host: string; port: number } {
    return this.options.addressOverrides?.get(config.name) ?? config.address;
  }

  /**
   * Applies the full listener set (LDS is state of the world). Binds new
   * listeners before closing replaced ones; a listener given the same
   * config object is left alone. Never rejects (bind failures are reported
   * through onEvent and leave the previous listener serving).
   */
  async setListeners(configs: ReadonlyMap<string, ListenerConfig>): Promise<void> {
    for (const [name, config] of configs) {
      if (!this.bindable(name, config)) continue;
      const existing = this.active.get(name);
      if (existing?.config === config) continue;
      const target = this.target(config);
      const sameAddress =
        existing &&
        this.target(existing.config).host === target.host &&
        (this.target(existing.config).port === target.port || target.port === 0);
      if (existing && sameAddress) {
        this.drain(existing.update(config));
        continue;
      }
      const next = new ActiveListener(config, this);
      try {
        await next.listen(target.host, target.port);
      } catch (error) {
        this.options.onEvent?.({ type: 'bind-failed', listener: name, detail: (error as Error).message });
        continue;
      }
      this.active.set(name, next);
      this.options.onEvent?.({ type: 'bound', listener: name, detail: JSON.stringify(this.address(name)) });
      if (existing) {
        existing.close();
        this.drain(existing.update(config));
      }
    }
    for (const [name, listener] of this.active) {
      const wanted = configs.get(name);
      if (wanted && this.bindable(name, wanted)) continue;
      this.active.delete(name);
      listener.close();
      this.drain(listener.update(listener.config));
      this.options.onEvent?.({ type: 'removed', listener: name });
    }
    this.setUnbound(configs);
    this.reindex();
  }

  private drain(chains: readonly ChainRuntime[]): void {
    for (const chain of chains) {
      chain.drain();
      this.draining.add(chain);
      const timer = setTimeout(() => {
        this.draining.delete(chain);
        chain.destroy();
      }, this.drainTimeMs);
      timer.unref();
    }
  }

  /** Starts draining every listener's connections (SIGTERM, /drain_listeners); listeners stop accepting. */
  drainAll(): void {
    for (const listener of this.active.values()) listener.close();
    for (const listener of [...this.active.values(), ...this.unbound.values()]) {
      for (const chain of listener.allChains()) chain.drain();
    }
  }

  /** Closes every listener and destroys every connection. */
  close(): void {
    for (const listener of this.active.values()) listener.close();
    for (const listener of [...this.active.values(), ...this.unbound.values()]) {
      for (const chain of listener.allChains()) chain.destroy();
    }
    for (const chain of this.draining) chain.destroy();
    this.draining.clear();
    this.active.clear();
    this.unbound.clear();
    this.reindex();
  }
}
