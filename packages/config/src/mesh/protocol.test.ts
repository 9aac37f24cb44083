import { describe, expect, it } from 'vitest';
import { defaultMeshConfig, protocolFromPort } from './protocol.ts';

describe('protocolFromPort', () => {
  it.each([
    ['an explicit protocol', { protocol: 'HTTP', name: 'tcp-x' }, 'HTTP'],
    ['an explicit protocol in lowercase', { protocol: 'grpc' }, 'GRPC'],
    ['appProtocol over the name', { appProtocol: 'http2', name: 'tcp-db' }, 'HTTP2'],
    ["Kubernetes' h2c appProtocol", { appProtocol: 'kubernetes.io/h2c' }, 'HTTP2'],
    ['the name prefix', { name: 'http-web' }, 'HTTP'],
    ['a bare protocol name', { name: 'grpc' }, 'GRPC'],
    ['grpc-web', { name: 'grpc-web' }, 'HTTP'],
    ['https', { name: 'https-443' }, 'HTTPS'],
    ['mongo', { name: 'mongo' }, 'MONGO'],
    ['an unknown name (sniffed, then TCP)', { name: 'web' }, 'UNSUPPORTED'],
    ['an unknown appProtocol falls back to the name', { appProtocol: 'custom', name: 'tls-x' }, 'TLS'],
    ['UDP', { protocol: 'UDP', name: 'dns' }, 'UDP'],
    ['nothing', {}, 'UNSUPPORTED'],
  ])('reads %s', (_name, port, expected) => {
    expect(protocolFromPort(port)).toBe(expected);
  });
});

describe('defaultMeshConfig', () => {
  it("uses Istio's defaults and takes overrides", () => {
    expect(defaultMeshConfig()).toEqual({
      trustDomain: 'cluster.local',
      rootNamespace: 'istio-system',
      domainSuffix: 'cluster.local',
      outboundTrafficPolicy: 'ALLOW_ANY',
      defaultMtlsMode: 'PERMISSIVE',
    });
    expect(defaultMeshConfig({ trustDomain: 'example.org' }).trustDomain).toBe('example.org');
  });
});
