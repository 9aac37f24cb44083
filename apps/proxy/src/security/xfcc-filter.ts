/**
 * `x-forwarded-client-cert` as the HTTP connection manager's
 * `forwardClientCertDetails` says (Envoy's semantics):
 *
 * - SANITIZE (default): remove any incoming XFCC.
 * - SANITIZE_SET: remove it, and on mTLS connections set one element for
 *   the verified client: `By=<our URI SAN>;Hash=<sha256 of the client
 *   certificate>` and, as `setCurrentClientCertDetails` asks,
 *   `Subject="..."`, `URI=...`, `DNS=...`.
 * - APPEND_FORWARD: keep the incoming value and append that element.
 * - FORWARD_ONLY / ALWAYS_FORWARD_ONLY: pass the incoming value unchanged.
 *
 * Plaintext connections never get a set element (nothing was verified).
 */
import type { HttpFilter } from '../http/http-stream.ts';
import { peerIdentityOf } from '../tls/tls-runtime.ts';

export interface XfccConfig {
  readonly mode: 'SANITIZE' | 'FORWARD_ONLY' | 'APPEND_FORWARD' | 'SANITIZE_SET' | 'ALWAYS_FORWARD_ONLY';
  readonly subject: boolean;
  readonly uri: boolean;
  readonly dns: boolean;
}

const XFCC = 'x-forwarded-client-cert';

/** Builds the XFCC filter for one HCM. */
export function createXfccFilter(config: XfccConfig): HttpFilter {
  return {
    name: 'xfcc',
    onRequest(stream) {
      const headers = stream.req.headers;
      if (config.mode === 'FORWARD_ONLY' || config.mode === 'ALWAYS_FORWARD_ONLY') return 'continue';
      const incoming = headers[XFCC];
      if (config.mode !== 'APPEND_FORWARD') delete headers[XFCC];
      if (config.mode === 'SANITIZE') return 'continue';
      const peer = peerIdentityOf(stream.req.socket);
      if (!peer?.authenticated || !peer.certHash) return 'continue';
      const parts: string[] = [];
      if (peer.localUri) parts.push(`By=${peer.localUri}`);
      parts.push(`Hash=${peer.certHash}`);
      if (config.subject) parts.push(`Subject="${peer.subject.replaceAll('"', '\\"')}"`);
      if (config.uri && peer.principal) parts.push(`URI=${peer.principal}`);
      if (config.dns) for (const dns of peer.dnsSans) parts.push(`DNS=${dns}`);
      const element = parts.join(';');
      const previous = Array.isArray(incoming) ? incoming.join(',') : incoming;
      headers[XFCC] = config.mode === 'APPEND_FORWARD' && previous ? `${previous},${element}` : element;
      return 'continue';
    },
  };
}
