import { describe, expect, it } from 'vitest';
import { parseProxy } from './proxy.ts';

function node(id: string, metadata: Record<string, unknown> = {}) {
  return { id, metadata };
}

describe('parseProxy', () => {
  it('reads an Istio sidecar node id and metadata', () => {
    const result = parseProxy({
      id: 'sidecar~10.0.0.1~reviews-v1-abc.default~default.svc.cluster.local',
      metadata: {
        NAMESPACE: 'default',
        SERVICE_ACCOUNT: 'bookinfo-reviews',
        LABELS: { app: 'reviews', version: 'v1' },
        INSTANCE_IPS: '10.0.0.1,fd00::1',
        WORKLOAD_NAME: 'reviews-v1',
        CLUSTER_ID: 'Kubernetes',
      },
      locality: { region: 'us-east1', zone: 'b' },
    });
    expect(result).toEqual({
      ok: true,
      proxy: expect.objectContaining({
        type: 'sidecar',
        ipAddresses: ['10.0.0.1', 'fd00::1'],
        workloadName: 'reviews-v1',
        namespace: 'default',
        dnsDomain: 'default.svc.cluster.local',
        serviceAccount: 'bookinfo-reviews',
        labels: { app: 'reviews', version: 'v1' },
        clusterId: 'Kubernetes',
        locality: 'us-east1/b/',
      }),
    });
  });

  it.each([
    [
      'router type',
      'router~10.0.0.9~gw-1.istio-system~istio-system.svc.cluster.local',
      'router',
      'istio-system',
      ['10.0.0.9'],
    ],
    [
      'name and namespace from the id',
      'sidecar~127.0.0.2~productpage-v1.shop~shop.svc.cluster.local',
      'sidecar',
      'shop',
      ['127.0.0.2'],
    ],
  ])('defaults from the node id: %s', (_name, id, type, namespace, ips) => {
    const result = parseProxy(node(id));
    expect(result.ok && result.proxy).toMatchObject({ type, namespace, ipAddresses: ips });
  });

  it.each([
    ['free text', 'my-grpc-client', 'default'],
    ['an Istio-looking id', 'sidecar~127.0.0.1~client.default~default.svc.cluster.local', 'default'],
  ])('accepts a proxyless gRPC client with %s as id', (_name, id, namespace) => {
    const result = parseProxy(node(id, { GENERATOR: 'grpc' }));
    expect(result.ok && result.proxy).toMatchObject({ generator: 'grpc', namespace, type: 'sidecar' });
  });

  it('takes a proxyless client namespace from metadata', () => {
    const result = parseProxy(node('client', { GENERATOR: 'grpc', NAMESPACE: 'shop' }));
    expect(result.ok && result.proxy.namespace).toBe('shop');
  });

  it.each([
    [
      'a free-text id without GENERATOR grpc',
      node('hello'),
      ['node.id: "hello" is not TYPE~IP~NAME.NAMESPACE~DNSDOMAIN with TYPE sidecar or router'],
    ],
    [
      'an unknown node type',
      node('gateway~1.2.3.4~a.b~b.svc'),
      [
        'node.id: "gateway~1.2.3.4~a.b~b.svc" is not TYPE~IP~NAME.NAMESPACE~DNSDOMAIN with TYPE sidecar or router',
      ],
    ],
    [
      'LABELS not an object',
      node('sidecar~1.2.3.4~a.b~b.svc', { LABELS: 'app=x' }),
      ['node.metadata.LABELS: expected an object of string values'],
    ],
    [
      'a label value not a string',
      node('sidecar~1.2.3.4~a.b~b.svc', { LABELS: { app: 3 } }),
      ['node.metadata.LABELS.app: expected a string, got number'],
    ],
    [
      'NAMESPACE not a string',
      node('sidecar~1.2.3.4~a.b~b.svc', { NAMESPACE: 1 }),
      ['node.metadata.NAMESPACE: expected a string, got number'],
    ],
    [
      'an unknown generator',
      node('sidecar~1.2.3.4~a.b~b.svc', { GENERATOR: 'api' }),
      ['node.metadata.GENERATOR: unsupported generator "api" (only "grpc")'],
    ],
  ])('rejects %s with every problem named', (_name, input, problems) => {
    expect(parseProxy(input)).toEqual({ ok: false, problems });
  });
});
