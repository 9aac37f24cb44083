/**
 * Upstream TLS: a cluster with an UpstreamTlsContext (SNI, no client
 * certificate) reaches an HTTPS backend (node:https with an OpenSSL-made
 * self-signed certificate) over HTTP/1.1 and HTTP/2; the backend sees the SNI.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WeftProxy } from '../src/proxy.ts';
import {
  filterChain,
  http2ProtocolOptions,
  httpConnectionManager,
  listener,
  routeConfiguration,
  routeTo,
  staticCluster,
  virtualHost,
} from '../src/testing/builders.ts';
import { startStaticProxy } from './support/harness.ts';

let proxy: WeftProxy;
let h1: https.Server;
let h2: http2.Http2SecureServer;
const dir = mkdtempSync(join(tmpdir(), 'weft-proxy-tls-'));

function tlsContext(sni: string) {
  return {
    transportSocket: {
      name: 'envoy.transport_sockets.tls',
      typedConfig: {
        '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
        sni,
      },
    },
  };
}

beforeAll(async () => {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=backend.internal',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  const options = { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
  h1 = https.createServer(options, (req, res) => {
    res.end(`h1 sni=${(req.socket as TLSSocket).servername}`);
  });
  h2 = http2.createSecureServer(options, (req, res) => {
    res.end(`h2 sni=${(req.socket as TLSSocket).servername}`);
  });
  await Promise.all([
    new Promise<void>((r) => h1.listen(0, '127.0.0.1', r)),
    new Promise<void>((r) => h2.listen(0, '127.0.0.1', r)),
  ]);
  proxy = await startStaticProxy({
    clusters: [
      staticCluster('tls1', [{ port: (h1.address() as AddressInfo).port }], tlsContext('backend.internal')),
      staticCluster('tls2', [{ port: (h2.address() as AddressInfo).port }], {
        ...tlsContext('h2.internal'),
        ...http2ProtocolOptions(),
      }),
    ],
    listeners: [listener('http', 0, [filterChain(httpConnectionManager('80'))])],
    routes: [
      routeConfiguration('80', [
        virtualHost('one', ['one.local'], [routeTo('tls1')]),
        virtualHost('two', ['two.local'], [routeTo('tls2')]),
      ]),
    ],
  });
});

afterAll(async () => {
  await proxy?.close();
  h1?.close();
  h2?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('upstream TLS', () => {
  it.each([
    { host: 'one.local', expected: 'h1 sni=backend.internal' },
    { host: 'two.local', expected: 'h2 sni=h2.internal' },
  ])('reaches $host over TLS with its SNI', async ({ host, expected }) => {
    const res = await request(`http://127.0.0.1:${proxy.listenerAddress('http')!.port}/`, {
      headers: { host },
    });
    expect(res.statusCode).toBe(200);
    expect(await res.body.text()).toBe(expected);
  });
});
