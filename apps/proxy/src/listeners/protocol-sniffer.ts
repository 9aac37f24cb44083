/**
 * Protocol detection from a connection's first bytes, the work Envoy's
 * tls_inspector and http_inspector listener filters do: a TLS ClientHello
 * (SNI and ALPN read from it), the HTTP/2 connection preface (h2c), an
 * HTTP/1.x request line, or else raw TCP.
 */

export interface SniffResult {
  /** Envoy's `transport_protocol`: `tls` or `raw_buffer`. */
  readonly transportProtocol: 'tls' | 'raw_buffer';
  /** Envoy's detected application protocols (`http/1.1`, `h2c`, or the ClientHello's ALPN list). */
  readonly applicationProtocols: readonly string[];
  readonly serverName: string | undefined;
  readonly kind: 'tls' | 'http1' | 'http2' | 'tcp';
}

const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
const MAX_SNIFF_BYTES = 16 * 1024;
const HTTP1_LINE = /^[A-Z]{1,16} \S+ HTTP\/1\.[01]\r?$/;
const METHOD_PREFIX = /^[A-Z]{1,16}( |$)/;

const TCP: SniffResult = {
  transportProtocol: 'raw_buffer',
  applicationProtocols: [],
  serverName: undefined,
  kind: 'tcp',
};
const HTTP1: SniffResult = {
  transportProtocol: 'raw_buffer',
  applicationProtocols: ['http/1.1'],
  serverName: undefined,
  kind: 'http1',
};
const HTTP2: SniffResult = {
  transportProtocol: 'raw_buffer',
  applicationProtocols: ['h2c'],
  serverName: undefined,
  kind: 'http2',
};

/** The result for a connection that sent nothing before the sniff timeout. */
export const NO_DATA: SniffResult = TCP;

/**
 * Classifies the bytes received so far; 'more' asks for more bytes.
 * Never throws on any input.
 */
export function sniff(data: Buffer): SniffResult | 'more' {
  if (data.length === 0) return 'more';
  if (data[0] === 0x16) return sniffTls(data);
  const prefaceBytes = Math.min(data.length, H2_PREFACE.length);
  if (data.subarray(0, prefaceBytes).equals(H2_PREFACE.subarray(0, prefaceBytes))) {
    return prefaceBytes === H2_PREFACE.length ? HTTP2 : 'more';
  }
  const newline = data.indexOf(10);
  const head = data.subarray(0, newline < 0 ? Math.min(data.length, 64) : newline).toString('latin1');
  if (newline >= 0) return HTTP1_LINE.test(head) ? HTTP1 : TCP;
  if (METHOD_PREFIX.test(head) && data.length < MAX_SNIFF_BYTES) return 'more';
  return TCP;
}

function sniffTls(data: Buffer): SniffResult | 'more' {
  if (data.length < 5) return 'more';
  if (data[1] !== 0x03) return TCP;
  const recordLength = data.readUInt16BE(3);
  const end = 5 + recordLength;
  if (data.length < end) return end > MAX_SNIFF_BYTES ? tlsWithout() : 'more';
  try {
    return parseClientHello(data.subarray(5, end));
  } catch {
    return tlsWithout();
  }
}

function tlsWithout(): SniffResult {
  return { transportProtocol: 'tls', applicationProtocols: [], serverName: undefined, kind: 'tls' };
}

/** Reads SNI and ALPN from a ClientHello handshake message (RFC 8446 section 4.1.2). Throws on truncation. */
function parseClientHello(hs: Buffer): SniffResult {
  if (hs[0] !== 0x01) return tlsWithout();
  let p = 4 + 2 + 32; // handshake header, legacy_version, random
  const need = (n: number): void => {
    if (p + n > hs.length) throw new RangeError('truncated ClientHello');
  };
  need(1);
  p += 1 + hs[p]!; // session id
  need(2);
  p += 2 + hs.readUInt16BE(p); // cipher suites
  need(1);
  p += 1 + hs[p]!; // compression methods
  let serverName: string | undefined;
  const alpn: string[] = [];
  if (p + 2 <= hs.length) {
    const extEnd = Math.min(hs.length, p + 2 + hs.readUInt16BE(p));
    p += 2;
    while (p + 4 <= extEnd) {
      const type = hs.readUInt16BE(p);
      const len = hs.readUInt16BE(p + 2);
      const body = hs.subarray(p + 4, p + 4 + len);
      p += 4 + len;
      if (type === 0 && body.length >= 5 && body[2] === 0) {
        const nameLen = body.readUInt16BE(3);
        serverName = body
          .subarray(5, 5 + nameLen)
          .toString('latin1')
          .toLowerCase();
      } else if (type === 16 && body.length >= 2) {
        let q = 2;
        while (q < body.length) {
          const l = body[q]!;
          alpn.push(body.subarray(q + 1, q + 1 + l).toString('latin1'));
          q += 1 + l;
        }
      }
    }
  }
  return { transportProtocol: 'tls', applicationProtocols: alpn, serverName, kind: 'tls' };
}
