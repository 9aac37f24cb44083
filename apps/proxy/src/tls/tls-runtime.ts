/**
 * TLS at run time: secure contexts built from the agent's current secrets
 * (one per secrets version, so a rotation reaches the next handshake and
 * never an open connection), downstream termination with client
 * certificate and SPIFFE SAN checks, and upstream connection options with
 * the server's SAN checked against the cluster's matchers.
 *
 * The verified peer identity is stored on the TLS socket (`peerIdentityOf`)
 * for routing, RBAC, XFCC, metrics and access logs.
 */
import type { Socket } from 'node:net';
import tls from 'node:tls';
import type { SecretProvider } from '../agent/secret-store.ts';
import {
  type DownstreamTlsConfig,
  parseSubjectAltNames,
  sanAccepted,
  type TlsCertificatesConfig,
} from './tls-context-config.ts';

const PEER = Symbol.for('weft.peerIdentity');
const HANDSHAKE_TIMEOUT_MS = 10_000;

/** What the proxy knows of a downstream TLS peer. */
export interface PeerIdentity {
  /** The URI SAN (SPIFFE ID) of a verified client certificate. */
  readonly principal: string | undefined;
  /** True when the client presented a certificate that chained to ROOTCA and passed the SAN check. */
  readonly authenticated: boolean;
  /** PEM of the client leaf (for XFCC `Cert`, never logged), and its SHA-256 fingerprint. */
  readonly certHash: string | undefined;
  readonly subject: string;
  readonly dnsSans: readonly string[];
  readonly sni: string | undefined;
  readonly alpn: string | undefined;
  /** This proxy's own URI SAN on the connection (XFCC `By`). */
  readonly localUri: string | undefined;
  /** Addresses of the raw TCP connection under the TLS socket. */
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly localAddress: string | undefined;
  readonly localPort: number | undefined;
}

/** The identity attached to a (TLS) socket, or to the socket behind an HTTP/2 compat socket proxy. */
export function peerIdentityOf(socket: unknown): PeerIdentity | undefined {
  if (!socket || typeof socket !== 'object') return undefined;
  try {
    const own = (socket as Record<symbol, PeerIdentity | undefined>)[PEER];
    if (own) return own;
    // HTTP/2 compat: req.socket proxies to the session's socket, which wraps our stream as `stream`.
    const inner = (socket as { stream?: unknown }).stream;
    return inner && typeof inner === 'object'
      ? (inner as Record<symbol, PeerIdentity | undefined>)[PEER]
      : undefined;
  } catch {
    // A closed HTTP/2 session's socket proxy throws on access.
    return undefined;
  }
}

/** Attaches `identity` to `socket` (e.g. a stream wrapping the TLS socket). */
export function setPeerIdentity(socket: object, identity: PeerIdentity): void {
  (socket as Record<symbol, PeerIdentity>)[PEER] = identity;
}

/** Raised when a TLS context names a secret the agent does not have (yet). */
export class TlsSecretError extends Error {
  readonly code = 'secret-unavailable';
  constructor(message: string) {
    super(message);
    this.name = 'TlsSecretError';
  }
}

/** True when a TLS context takes anything from the identity agent (SDS default or ROOTCA). */
export function usesAgentSecrets(config: TlsCertificatesConfig): boolean {
  return config.certificateSds !== undefined || config.validation?.trustBundleSds !== undefined;
}

/** Builds and caches secure contexts from the agent's secrets and the contexts' own PEM. */
export class SecureContexts {
  readonly secrets: SecretProvider | undefined;
  private readonly cache = new WeakMap<
    TlsCertificatesConfig,
    { version: number; context: tls.SecureContext }
  >();

  constructor(secrets: SecretProvider | undefined) {
    this.secrets = secrets;
  }

  /** The context for `config` now; throws TlsSecretError when a needed secret is missing. */
  context(config: TlsCertificatesConfig): tls.SecureContext {
    const secrets = this.secrets;
    if (usesAgentSecrets(config) && !secrets)
      throw new TlsSecretError('the proxy has no identity agent (start it with --ca-addr)');
    const version = secrets?.version ?? 0;
    const cached = this.cache.get(config);
    if (cached?.version === version) return cached.context;
    const options: tls.SecureContextOptions = {};
    if (config.certificatePem) {
      options.cert = config.certificatePem.chain;
      options.key = config.certificatePem.key;
    } else if (config.certificateSds) {
      const cert = secrets?.certificate();
      if (!cert) throw new TlsSecretError('SDS secret default is not ready (no certificate from the CA yet)');
      options.cert = cert.certChainPem;
      options.key = cert.privateKeyPem;
    }
    if (config.validation?.trustedCaPem) options.ca = config.validation.trustedCaPem;
    else if (config.validation) {
      const roots = secrets?.trustBundle();
      if (!roots) throw new TlsSecretError('SDS secret ROOTCA is not ready');
      options.ca = roots;
    }
    const context = tls.createSecureContext(options);
    this.cache.set(config, { version, context });
    return context;
  }
}

/**
 * Terminates TLS on `socket` with Node's native TLS wrap (no JS stream in
 * between). Bytes already read from the socket (a sniffed ClientHello) must
 * be back in its readable buffer (`socket.unshift`): the TLSSocket
 * constructor feeds a wrapped socket's buffered bytes to the TLS engine
 * before it reads the socket's handle (`initRead` in Node's
 * lib/_tls_wrap.js). Calls `onSecure` with the decrypted stream once the
 * handshake and the peer checks pass; otherwise destroys the connection and
 * reports why through `onFail`. Exactly one of the two is called, once.
 */
export function terminateTls(
  socket: Socket,
  config: DownstreamTlsConfig,
  contexts: SecureContexts,
  onSecure: (secure: tls.TLSSocket, peer: PeerIdentity) => void,
  onFail: (reason: string) => void,
): void {
  let secureContext: tls.SecureContext;
  try {
    secureContext = contexts.context(config);
  } catch (error) {
    socket.destroy();
    onFail((error as Error).message);
    return;
  }
  const secure = new tls.TLSSocket(socket, {
    isServer: true,
    secureContext,
    requestCert: config.validation !== undefined,
    rejectUnauthorized: false,
    ...(config.alpn.length > 0 ? { ALPNProtocols: [...config.alpn] } : {}),
  });
  let failed = false;
  const fail = (reason: string): void => {
    clearTimeout(timer);
    if (failed) return;
    failed = true;
    secure.destroy();
    socket.destroy();
    onFail(reason);
  };
  // A peer that stalls mid-handshake must not hold the connection forever (Envoy: 10 s).
  const timer = setTimeout(() => fail('TLS handshake timed out'), HANDSHAKE_TIMEOUT_MS);
  timer.unref();
  secure.once('error', (error) => fail(`TLS handshake failed: ${error.message}`));
  // A handshake needs the peer's Finished, so its FIN before 'secure' ends the attempt. The FIN
  // reaches the TLS socket, or the raw one when its JS stream had read it with the ClientHello.
  const onEnd = (): void => fail('peer closed the connection during the TLS handshake');
  secure.once('end', onEnd);
  socket.once('end', onEnd);
  secure.once('secure', () => {
    clearTimeout(timer);
    secure.off('end', onEnd);
    socket.off('end', onEnd);
    // As tls.Server does before 'secureConnection': node:http2 waits for 'secureConnect'
    // (which a server socket never emits) while this is true.
    (secure as unknown as { secureConnecting: boolean }).secureConnecting = false;
    const cert = secure.getPeerCertificate();
    const presented = cert !== undefined && Object.keys(cert).length > 0;
    if (config.requireClientCertificate && !presented) return fail('no client certificate');
    // A standalone server TLSSocket does not set `authorized` (tls.Server does, from the
    // handle's verify result); read that result the same way node:tls does.
    const handle = (secure as unknown as { _handle?: { verifyError(): Error | null } })._handle;
    const verifyError = handle ? handle.verifyError() : new Error('no TLS handle');
    if (presented && verifyError) return fail(`client certificate rejected: ${verifyError.message}`);
    const sans = presented ? parseSubjectAltNames(cert.subjectaltname) : [];
    if (presented && config.validation && !sanAccepted(config.validation.sanMatchers, sans))
      return fail(`client certificate SAN ${cert.subjectaltname ?? '(none)'} does not match`);
    const uri = sans.find((s) => s.type === 'URI')?.value;
    const servername = (secure as unknown as { servername?: string | false }).servername;
    const identity: PeerIdentity = {
      principal: presented ? uri : undefined,
      authenticated: presented,
      certHash: presented ? cert.fingerprint256.replaceAll(':', '').toLowerCase() : undefined,
      subject: presented ? subjectString(cert.subject) : '',
      dnsSans: sans.filter((s) => s.type === 'DNS').map((s) => s.value),
      sni: servername || undefined,
      alpn: secure.alpnProtocol || undefined,
      localUri: contexts.secrets?.certificate()?.spiffeId,
      remoteAddress: socket.remoteAddress,
      remotePort: socket.remotePort,
      localAddress: socket.localAddress,
      localPort: socket.localPort,
    };
    setPeerIdentity(secure, identity);
    secure.removeAllListeners('error');
    secure.on('error', () => secure.destroy());
    onSecure(secure, identity);
  });
}

function subjectString(subject: tls.PeerCertificate['subject'] | undefined): string {
  if (!subject) return '';
  return Object.entries(subject)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : String(v)}`)
    .join(',');
}

/**
 * `tls.connect` options for an upstream with `config`: the agent's
 * certificate, the ROOTCA bundle, SNI, ALPN, and the server's SAN checked
 * against the matchers instead of the host name. Throws TlsSecretError when
 * a secret is missing (the caller fails the connection as UF).
 */
export function upstreamTlsOptions(
  config: TlsCertificatesConfig & { readonly sni: string | undefined },
  contexts: SecureContexts,
  defaultAlpn: readonly string[],
): tls.ConnectionOptions {
  const needsSecrets =
    config.certificateSds !== undefined ||
    config.certificatePem !== undefined ||
    config.validation !== undefined;
  // The pool's own protocol is offered (the codec is the cluster's, whatever the context lists).
  const alpn = defaultAlpn.length > 0 ? defaultAlpn : config.alpn;
  const validation = config.validation;
  return {
    ...(needsSecrets ? { secureContext: contexts.context(config) } : {}),
    servername: config.sni ?? '',
    ALPNProtocols: [...alpn],
    // Envoy verifies the server only when a validation context is configured.
    rejectUnauthorized: validation !== undefined,
    checkServerIdentity: (_host, cert) => {
      if (!validation) return undefined;
      const sans = parseSubjectAltNames(cert.subjectaltname);
      if (sanAccepted(validation.sanMatchers, sans)) return undefined;
      return new Error(
        `upstream certificate SAN ${cert.subjectaltname ?? '(none)'} matches none of the expected names`,
      );
    },
  };
}

/**
 * The per-connection TLS options of an upstream transport that needs the
 * agent (a certificate to present or a validation context), else undefined
 * (plaintext, or TLS without verification as before).
 */
export function meshTlsConnect(
  config: (TlsCertificatesConfig & { readonly sni: string | undefined }) | undefined,
  contexts: SecureContexts,
): ((alpn: readonly string[]) => tls.ConnectionOptions) | undefined {
  if (!config) return undefined;
  if (
    config.certificateSds === undefined &&
    config.certificatePem === undefined &&
    config.validation === undefined
  )
    return undefined;
  return (alpn) => upstreamTlsOptions(config, contexts, alpn);
}
