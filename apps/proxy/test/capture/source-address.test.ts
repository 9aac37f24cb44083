/**
 * `upstreamBindConfig.sourceAddress` on loopback: upstream connections of
 * such a cluster come from that address (Istio's 127.0.0.6 for inbound
 * clusters, which the capture rules let through), over HTTP/1.1, HTTP/2
 * and the TCP proxy alike. Linux routes all of 127.0.0.0/8 to lo, so
 * binding 127.0.0.6 needs no setup.
 */
import http from 'node:http';
import http2 from 'node:http2';
import net, { type AddressInfo } from 'node:net';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Body } from '../../src/config/problems.ts';
import type { WeftProxy } from '../../src/proxy.ts';
import {
  filterChain,
  http2ProtocolOptions,
  httpConnectionManager,
  listener,
  routeConfiguration,
  routeTo,
  staticCluster,
  tcpProxy,
  virtualHost,
} from '../../src/testing/builders.ts';
import { startStaticProxy } from '../support/harness.ts';

const SOURCE = '127.0.0.6';
const bind = { upstreamBindConfig: { sourceAddress: { address: SOURCE, portValue: 0 } } };

interface Server {
  readonly port: number;
  close(): void;
}

async function listen(server: net.Server): Promise<Server> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, close: () => server.close() };
}

describe('cluster upstreamBindConfig.sourceAddress', () => {
  let proxy: WeftProxy;
  const servers: Server[] = [];

  beforeAll(async () => {
    // Each upstream answers with the address the connection came from.
    const h1 = await listen(http.createServer((req, res) => res.end(req.socket.remoteAddress ?? '')));
    const h2 = await listen(http2.createServer((req, res) => res.end(req.socket.remoteAddress ?? '')));
    const tcp = await listen(net.createServer((socket) => socket.end(socket.remoteAddress ?? '')));
    servers.push(h1, h2, tcp);
    const route = (name: string, cluster: string): Body =>
      routeConfiguration(name, [virtualHost(name, ['*'], [routeTo(cluster)])]);
    proxy = await startStaticProxy({
      clusters: [
        staticCluster('h1', [{ address: '127.0.0.1', port: h1.port }], bind),
        staticCluster('h2', [{ address: '127.0.0.1', port: h2.port }], {
          ...bind,
          ...http2ProtocolOptions(),
        }),
        staticCluster('tcp', [{ address: '127.0.0.1', port: tcp.port }], bind),
      ],
      listeners: [
        listener('h1', 0, [filterChain(httpConnectionManager(route('h1', 'h1')))]),
        listener('h2', 0, [filterChain(httpConnectionManager(route('h2', 'h2')))]),
        listener('tcp', 0, [filterChain(tcpProxy('tcp'))]),
      ],
    });
  });

  afterAll(async () => {
    await proxy?.close();
    for (const server of servers) server.close();
  });

  it.each(['h1', 'h2'])('%s upstream connections come from the source address', async (name) => {
    const response = await request(`http://127.0.0.1:${proxy.listenerAddress(name)!.port}/`);
    expect(response.statusCode).toBe(200);
    expect(await response.body.text()).toBe(SOURCE);
  });

  it('TCP proxy upstream connections come from the source address', async () => {
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(proxy.listenerAddress('tcp')!.port, '127.0.0.1');
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('error', reject);
      socket.on('close', () => resolve(Buffer.concat(chunks).toString()));
    });
    expect(reply).toBe(SOURCE);
  });
});
