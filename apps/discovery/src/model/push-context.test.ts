import { defaultMeshConfig, parseConfigYaml } from '@weft/config';
import { describe, expect, it } from 'vitest';
import { createPushContext, normalizeGateways } from './push-context.ts';

function pushOf(yaml: string) {
  const { objects, problems } = parseConfigYaml(yaml, 'push-context.test.yaml');
  expect(problems.filter((p) => p.severity === 'error')).toEqual([]);
  return createPushContext(objects, defaultMeshConfig(), 'v1');
}

const sidecar = (namespace: string, name: string, selector?: string) => `apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: { name: ${name}, namespace: ${namespace} }
spec:
${selector ? `  workloadSelector: { labels: { ${selector} } }\n` : ''}  egress: [{ hosts: ["./*"] }]`;

const virtualService = (namespace: string, name: string, extra: string) => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ${name}, namespace: ${namespace} }
spec:
  hosts: [reviews]
${extra}
  http: [{ route: [{ destination: { host: reviews } }] }]`;

describe('normalizeGateways', () => {
  it.each([
    ['absent means mesh', undefined, ['mesh']],
    ['short names are in the VirtualService namespace', ['gw'], ['shop/gw']],
    ['qualified names and mesh stay', ['other/gw', 'mesh'], ['other/gw', 'mesh']],
  ])('%s', (_name, gateways, expected) => {
    expect(normalizeGateways(gateways, 'shop')).toEqual(expected);
  });
});

describe('createPushContext', () => {
  it('indexes VirtualServices by gateway and exportTo', () => {
    const push = pushOf(
      [
        virtualService('default', 'public', ''),
        virtualService('default', 'private', '  exportTo: ["."]'),
        virtualService('default', 'edge', '  gateways: [ingress]'),
      ].join('\n---\n'),
    );
    const names = (gateway: string, namespace: string) =>
      push.virtualServicesFor(gateway, namespace).map((v) => v.service.metadata.name);
    expect(names('mesh', 'default')).toEqual(['private', 'public']);
    expect(names('mesh', 'other')).toEqual(['public']);
    expect(names('default/ingress', 'istio-system')).toEqual(['edge']);
    expect(push.virtualServices[0]?.hosts).toEqual(['reviews.default.svc.cluster.local']);
  });

  it.each([
    ['a workload-selected Sidecar first', { app: 'reviews' }, 'default', 'for-reviews'],
    ['else the namespace default', { app: 'ratings' }, 'default', 'default'],
    ['else the root namespace default', { app: 'x' }, 'other', 'mesh-wide'],
  ])('selects %s', (_name, labels, namespace, expected) => {
    const push = pushOf(
      [
        sidecar('default', 'default'),
        sidecar('default', 'for-reviews', 'app: reviews'),
        sidecar('istio-system', 'mesh-wide'),
      ].join('\n---\n'),
    );
    expect(push.sidecarFor(namespace, labels)?.metadata.name).toBe(expected);
  });

  it('prefers an exact DestinationRule host over a wildcard in the same namespace', () => {
    const rule = (name: string, host: string) =>
      `apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: { name: ${name}, namespace: default }\nspec: { host: "${host}" }`;
    const push = pushOf(
      [rule('wild', '*.default.svc.cluster.local'), rule('exact', 'reviews')].join('\n---\n'),
    );
    expect(push.destinationRule('reviews.default.svc.cluster.local', 'default')?.metadata.name).toBe('exact');
    expect(push.destinationRule('ratings.default.svc.cluster.local', 'default')?.metadata.name).toBe('wild');
    expect(push.destinationRule('ratings.other.svc.cluster.local', 'default')).toBeUndefined();
  });

  it('selects gateways by the router labels', () => {
    const push = pushOf(`apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: gw, namespace: default }
spec:
  selector: { istio: ingressgateway }
  servers: [{ port: { number: 80, name: http, protocol: HTTP }, hosts: ["*"] }]`);
    expect(push.gatewaysFor({ istio: 'ingressgateway', extra: 'x' }).map((g) => g.metadata.name)).toEqual([
      'gw',
    ]);
    expect(push.gatewaysFor({ istio: 'egressgateway' })).toEqual([]);
  });
});
