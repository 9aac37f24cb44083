import { describe, expect, it } from 'vitest';
import { createMeshModel } from './build-mesh-model.ts';
import {
  endpointsFromEndpointSlice,
  type KubernetesEndpointSliceInput,
  type KubernetesServiceInput,
  serviceFromKubernetes,
  withServiceAccounts,
} from './kubernetes-model.ts';
import { defaultMeshConfig } from './protocol.ts';

const mesh = defaultMeshConfig();

const kubeService = (
  spec: Partial<KubernetesServiceInput['spec']> = {},
  annotations?: Record<string, string>,
): KubernetesServiceInput => ({
  metadata: {
    name: 'reviews',
    namespace: 'bookinfo',
    labels: { app: 'reviews' },
    ...(annotations ? { annotations } : {}),
  },
  spec: {
    clusterIP: '10.96.0.10',
    ports: [
      { name: 'http', port: 9080, targetPort: 9080, protocol: 'TCP' },
      { name: 'metrics', port: 15020, targetPort: 'metrics', protocol: 'TCP', appProtocol: 'http' },
      { name: 'dns', port: 53, protocol: 'UDP' },
    ],
    ...spec,
  },
});

const slice = (
  endpoints: NonNullable<KubernetesEndpointSliceInput['endpoints']>,
): KubernetesEndpointSliceInput => ({
  metadata: {
    name: 'reviews-abc',
    namespace: 'bookinfo',
    labels: { 'kubernetes.io/service-name': 'reviews' },
  },
  addressType: 'IPv4',
  endpoints,
  ports: [
    { name: 'http', port: 9080, protocol: 'TCP' },
    { name: 'metrics', port: 15020, protocol: 'TCP' },
  ],
});

describe('serviceFromKubernetes', () => {
  it('maps hostname, cluster IP and ports with Istio protocol selection', () => {
    const service = serviceFromKubernetes(kubeService(), mesh);
    expect(service).toEqual({
      hostname: 'reviews.bookinfo.svc.cluster.local',
      namespace: 'bookinfo',
      addresses: ['10.96.0.10'],
      ports: [
        { name: 'http', number: 9080, protocol: 'HTTP', targetPort: 9080 },
        { name: 'metrics', number: 15020, protocol: 'HTTP' },
        { name: 'dns', number: 53, protocol: 'UDP' },
      ],
      resolution: 'STATIC',
      location: 'MESH_INTERNAL',
      labels: { app: 'reviews' },
      exportTo: ['*'],
      serviceAccounts: [],
      origin: { kind: 'Service', namespace: 'bookinfo', name: 'reviews' },
    });
  });

  it.each([
    ['headless', { clusterIP: 'None' }, [], 'NONE'],
    ['dual-stack', { clusterIPs: ['10.96.0.10', 'fd00::10'] }, ['10.96.0.10', 'fd00::10'], 'STATIC'],
    ['ExternalName', { type: 'ExternalName', externalName: 'db.example.com', clusterIP: '' }, [], 'DNS'],
  ])('maps a %s service', (_name, spec, addresses, resolution) => {
    const service = serviceFromKubernetes(kubeService(spec), mesh);
    expect([service.addresses, service.resolution]).toEqual([addresses, resolution]);
  });

  it('reads exportTo from the Istio annotation', () => {
    expect(
      serviceFromKubernetes(kubeService({}, { 'networking.istio.io/exportTo': '., istio-system' }), mesh)
        .exportTo,
    ).toEqual(['.', 'istio-system']);
  });
});

describe('endpointsFromEndpointSlice', () => {
  const service = serviceFromKubernetes(kubeService(), mesh);
  const pods = (ns: string, name: string) =>
    ns === 'bookinfo' && name === 'reviews-v1-x'
      ? { labels: { app: 'reviews', version: 'v1' }, serviceAccount: 'bookinfo-reviews', locality: 'us/us-a' }
      : undefined;

  it('makes one endpoint per address and served port, with pod identity when known', () => {
    const endpoints = endpointsFromEndpointSlice(
      slice([
        {
          addresses: ['10.1.0.5'],
          conditions: { ready: true },
          targetRef: { kind: 'Pod', name: 'reviews-v1-x', namespace: 'bookinfo' },
          zone: 'us-a',
        },
        {
          addresses: ['10.1.0.6'],
          conditions: { ready: false },
          targetRef: { kind: 'Pod', name: 'unknown' },
          zone: 'us-b',
        },
      ]),
      service,
      pods,
    );
    expect(
      endpoints.map(
        (e) =>
          `${e.servicePort.number} ${e.address}:${e.port} ${e.serviceAccount} ${e.locality} ${e.healthy} ${e.labels.version ?? '-'} ${e.workload}`,
      ),
    ).toEqual([
      '9080 10.1.0.5:9080 bookinfo-reviews us/us-a true v1 bookinfo/reviews-v1-x',
      '15020 10.1.0.5:15020 bookinfo-reviews us/us-a true v1 bookinfo/reviews-v1-x',
      '9080 10.1.0.6:9080 default us-b false - bookinfo/unknown',
      '15020 10.1.0.6:15020 default us-b false - bookinfo/unknown',
    ]);
    const model = createMeshModel([withServiceAccounts(service, endpoints, mesh)], endpoints);
    expect(model.endpoints('reviews.bookinfo.svc.cluster.local', 9080)).toHaveLength(2);
    expect(model.service('reviews.bookinfo.svc.cluster.local')?.serviceAccounts).toEqual([
      'spiffe://cluster.local/ns/bookinfo/sa/bookinfo-reviews',
      'spiffe://cluster.local/ns/bookinfo/sa/default',
    ]);
  });

  it('ignores FQDN slices and ports the service does not declare', () => {
    expect(
      endpointsFromEndpointSlice(
        { ...slice([{ addresses: ['a.example.com'] }]), addressType: 'FQDN' },
        service,
      ),
    ).toEqual([]);
    const other = { ...slice([{ addresses: ['10.1.0.7'] }]), ports: [{ name: 'grpc', port: 7070 }] };
    expect(endpointsFromEndpointSlice(other, service)).toEqual([]);
  });

  it.each([
    ['an injected pod (the injector labels it)', { 'security.istio.io/tlsMode': 'istio' }, 'istio'],
    ['a pod without the label, whatever its service account', {}, 'disabled'],
  ])('gives %s the tlsMode of its label', (_name, labels, tlsMode) => {
    const endpoints = endpointsFromEndpointSlice(
      slice([{ addresses: ['10.1.0.5'], targetRef: { kind: 'Pod', name: 'p', namespace: 'bookinfo' } }]),
      service,
      () => ({ labels, serviceAccount: 'bookinfo-reviews' }),
    );
    expect(endpoints.map((e) => e.tlsMode)).toEqual([tlsMode, tlsMode]);
  });
});
