import tls from 'node:tls';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileListener } from '../config/listener-config.ts';
import { filterChain, httpConnectionManager, listener, tcpProxy } from '../testing/builders.ts';
import { selectFilterChain } from './filter-chain-selector.ts';
import { sniff } from './protocol-sniffer.ts';

/** A real ClientHello from node:tls, captured from the socket it writes to. */
async function clientHello(servername: string, alpn: string[]): Promise<Buffer> {
  const { Duplex } = await import('node:stream');
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const sink = new Duplex({
      read() {},
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk);
        resolve(Buffer.concat(chunks));
        cb();
      },
    });
    const socket = tls.connect({ socket: sink, servername, ALPNProtocols: alpn });
    socket.on('error', () => {});
    setTimeout(() => socket.destroy(), 50);
  });
}

describe('sniff', () => {
  it.each([
    { name: 'HTTP/1.1 request line', bytes: 'GET /x HTTP/1.1\r\nHost: a\r\n\r\n', kind: 'http1' },
    { name: 'HTTP/1.0 request line', bytes: 'POST / HTTP/1.0\r\n', kind: 'http1' },
    { name: 'h2c preface', bytes: 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', kind: 'http2' },
    { name: 'raw bytes', bytes: '\x00\x01binary', kind: 'tcp' },
    { name: 'text that is not HTTP', bytes: 'HELLO there\n', kind: 'tcp' },
  ])('classifies $name as $kind', ({ bytes, kind }) => {
    const result = sniff(Buffer.from(bytes, 'latin1'));
    expect(result !== 'more' && result.kind).toBe(kind);
  });

  it.each([
    { name: 'a partial method', bytes: 'GE' },
    { name: 'a partial request line', bytes: 'GET /long/path' },
    { name: 'a partial preface', bytes: 'PRI * HTTP/2' },
    { name: 'a partial TLS record', bytes: '\x16\x03\x01\x02\x00\x01' },
  ])('asks for more after $name', ({ bytes }) => {
    expect(sniff(Buffer.from(bytes, 'latin1'))).toBe('more');
  });

  it('reads SNI and ALPN from a real ClientHello', async () => {
    const hello = await clientHello('reviews.default.svc', ['h2', 'http/1.1']);
    expect(sniff(hello)).toEqual({
      transportProtocol: 'tls',
      applicationProtocols: ['h2', 'http/1.1'],
      serverName: 'reviews.default.svc',
      kind: 'tls',
    });
  });

  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        const prefixed = [Buffer.from(bytes), Buffer.concat([Buffer.from([0x16, 0x03]), Buffer.from(bytes)])];
        for (const b of prefixed) expect(() => sniff(b)).not.toThrow();
      }),
    );
  });
});

describe('selectFilterChain', () => {
  const compiled = compileListener(
    listener('virtualInbound', 15006, [
      filterChain(tcpProxy('tls-passthrough'), {
        destinationPort: { value: 8443 },
        transportProtocol: 'tls',
      }),
      filterChain(tcpProxy('sni'), { destinationPort: { value: 8443 }, serverNames: ['*.example.com'] }),
      filterChain(httpConnectionManager('8080'), {
        destinationPort: { value: 8080 },
        applicationProtocols: ['http/1.1', 'h2c'],
      }),
      filterChain(tcpProxy('tcp-8080'), { destinationPort: { value: 8080 } }),
      filterChain(tcpProxy('any-port')),
    ]),
  );
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.problems));
  const l = compiled.value;
  const name = (port: number, bytes: Buffer | string): string => {
    const result = sniff(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes, 'latin1'));
    if (result === 'more') return 'more';
    const chain = selectFilterChain(l, port, result);
    return chain?.network.kind === 'tcp'
      ? (chain.network.clusters[0]?.name ?? '')
      : (chain?.network.kind ?? 'none');
  };

  it('matches port, then protocol', async () => {
    expect(name(8080, 'GET / HTTP/1.1\r\n')).toBe('http');
    expect(name(8080, 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')).toBe('http');
    expect(name(8080, '\x00raw')).toBe('tcp-8080');
    expect(name(9999, 'GET / HTTP/1.1\r\n')).toBe('any-port');
    expect(name(8443, await clientHello('api.example.com', []))).toBe('sni');
    expect(name(8443, await clientHello('other.org', []))).toBe('tls-passthrough');
  });
});
