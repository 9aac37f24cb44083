import net from 'node:net';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { setOriginalDestination } from '../capture/original-dst.ts';
import { compileCluster } from '../config/cluster-config.ts';
import type { Body } from '../config/problems.ts';
import { ClusterManager } from './cluster-manager.ts';
import { connectionOriginalDestination, originalDstTarget, parseHostPort } from './original-dst-host.ts';

function originalDstCluster(extra: Body = {}): Body {
  return { name: 'PassthroughCluster', type: 'ORIGINAL_DST', lbPolicy: 'CLUSTER_PROVIDED', ...extra };
}

function compiled(extra: Body = {}) {
  const result = compileCluster(originalDstCluster(extra));
  if (!result.ok) throw new Error(result.problems.map((p) => `${p.path}: ${p.message}`).join('; '));
  return result.value;
}

/** A socket the listener marked as redirected from `host:port`. */
function redirectedSocket(host: string, port: number): net.Socket {
  const socket = new net.Socket();
  setOriginalDestination(socket, { host, port, source: 'conntrack' });
  return socket;
}

describe('parseHostPort', () => {
  it.each([
    { value: '10.195.16.237:8888', expected: { host: '10.195.16.237', port: 8888 } },
    { value: ' 10.0.0.1:80 ', expected: { host: '10.0.0.1', port: 80 } },
    { value: '[::1]:9080', expected: { host: '::1', port: 9080 } },
    { value: '[fd00::5]:1', expected: { host: 'fd00::5', port: 1 } },
    { value: 'reviews:9080', expected: undefined },
    { value: '10.0.0.1', expected: undefined },
    { value: '10.0.0.1:', expected: undefined },
    { value: '10.0.0.1:0', expected: undefined },
    { value: '10.0.0.1:65536', expected: undefined },
    { value: '10.0.0.1:80x', expected: undefined },
    { value: '::1:80', expected: undefined },
    { value: '[::1]80', expected: undefined },
    { value: '[10.0.0.1]:80', expected: undefined },
  ])('$value', ({ value, expected }) => {
    expect(parseHostPort(value)).toEqual(expected);
  });
});

describe('originalDstTarget', () => {
  const dialled = redirectedSocket('10.0.0.7', 9080);

  it.each([
    { name: 'the dialled address by default', extra: {}, headers: {}, expected: '10.0.0.7:9080' },
    {
      name: 'the dialled address when the header is not enabled',
      extra: {},
      headers: { 'x-envoy-original-dst-host': '10.0.0.9:80' },
      expected: '10.0.0.7:9080',
    },
    {
      name: 'the header when enabled',
      extra: { originalDstLbConfig: { useHttpHeader: true } },
      headers: { 'x-envoy-original-dst-host': '10.0.0.9:80' },
      expected: '10.0.0.9:80',
    },
    {
      name: 'the first of repeated header values',
      extra: { originalDstLbConfig: { useHttpHeader: true } },
      headers: { 'x-envoy-original-dst-host': '10.0.0.9:80, 10.0.0.10:81' },
      expected: '10.0.0.9:80',
    },
    {
      name: 'a custom header name, matched lowercased',
      extra: { originalDstLbConfig: { useHttpHeader: true, httpHeaderName: 'X-Dst' } },
      headers: { 'x-dst': ['10.0.0.9:80', '10.0.0.10:81'] },
      expected: '10.0.0.9:80',
    },
    {
      name: 'no host for an invalid header value',
      extra: { originalDstLbConfig: { useHttpHeader: true } },
      headers: { 'x-envoy-original-dst-host': 'reviews:80' },
      expected: undefined,
    },
    {
      name: 'the port override over the dialled port',
      extra: { originalDstLbConfig: { upstreamPortOverride: { value: 15006 } } },
      headers: {},
      expected: '10.0.0.7:15006',
    },
    {
      name: 'the port override over the header port',
      extra: { originalDstLbConfig: { useHttpHeader: true, upstreamPortOverride: 8443 } },
      headers: { 'x-envoy-original-dst-host': '10.0.0.9:80' },
      expected: '10.0.0.9:8443',
    },
  ])('picks $name', ({ extra, headers, expected }) => {
    const target = originalDstTarget(compiled(extra).originalDst!, headers, dialled);
    expect(target && `${target.host}:${target.port}`).toBe(expected);
  });

  it('has no target for a connection that was not redirected', () => {
    const local = new net.Socket();
    setOriginalDestination(local, { host: '127.0.0.1', port: 15001, source: 'local' });
    expect(originalDstTarget(compiled().originalDst!, {}, local)).toBeUndefined();
    expect(originalDstTarget(compiled().originalDst!, {}, null)).toBeUndefined();
  });

  it('finds the destination of a TLS downstream through the socket it wraps', () => {
    const raw = redirectedSocket('10.0.0.8', 443);
    const secure = new tls.TLSSocket(raw, { isServer: true });
    expect(connectionOriginalDestination(secure)).toEqual({
      host: '10.0.0.8',
      port: 443,
      source: 'conntrack',
    });
    secure.destroy();
  });
});

describe('ORIGINAL_DST cluster settings', () => {
  it("applies Envoy's defaults", () => {
    expect(compiled().originalDst).toEqual({
      useHttpHeader: false,
      httpHeaderName: 'x-envoy-original-dst-host',
      upstreamPortOverride: undefined,
      cleanupIntervalMs: 5000,
    });
    const plain = compileCluster({ name: 'c', type: 'STATIC' });
    expect(plain.ok && plain.value.originalDst).toBeUndefined();
  });

  it.each([
    { name: 'zero cleanup interval', extra: { cleanupInterval: '0s' }, path: 'cleanupInterval' },
    {
      name: 'port override out of range',
      extra: { originalDstLbConfig: { upstreamPortOverride: { value: 70000 } } },
      path: 'originalDstLbConfig.upstreamPortOverride',
    },
    {
      name: 'metadata key',
      extra: { originalDstLbConfig: { metadataKey: { key: 'k', path: [{ key: 'p' }] } } },
      path: 'originalDstLbConfig.metadataKey',
    },
  ])('rejects $name', ({ extra, path }) => {
    const result = compileCluster(originalDstCluster(extra));
    expect(result.ok ? [] : result.problems.map((p) => p.path)).toContain(path);
  });
});

describe('UpstreamCluster.originalDstHost', () => {
  it('keeps one host per destination and removes hosts unused for the cleanup interval', () => {
    let now = 1000;
    const manager = new ClusterManager({ now: () => now });
    manager.setClusters(new Map([['PassthroughCluster', compiled({ cleanupInterval: '5s' })]]));
    const cluster = manager.get('PassthroughCluster')!;
    const first = cluster.originalDstHost({ host: '10.0.0.7', port: 80 });
    expect(cluster.originalDstHost({ host: '10.0.0.7', port: 80 })).toBe(first);
    expect(first.key).toBe('10.0.0.7:80');
    const busy = cluster.originalDstHost({ host: 'fd00::1', port: 80 });
    expect(busy.key).toBe('[fd00::1]:80');
    busy.active = 1;
    expect(cluster.originalDstHostCount).toBe(2);
    now += 5000;
    cluster.originalDstHost({ host: '10.0.0.9', port: 80 });
    // The idle host went; the one with a request in flight stays.
    expect(cluster.originalDstHostCount).toBe(2);
    expect(cluster.originalDstHost({ host: '10.0.0.7', port: 80 })).not.toBe(first);
  });
});
