import {
  buildMeshModel,
  defaultMeshConfig,
  type KubernetesEndpointSliceInput,
  type KubernetesServiceInput,
} from '@weft/config';
import { describe, expect, it } from 'vitest';
import {
  createServiceEntryBuilder,
  type KubernetesInventory,
  type KubernetesLabelledInput,
  type KubernetesPodInput,
  localityOf,
  serviceEntriesFromKubernetes,
} from './kube-service-entries.ts';

const mesh = defaultMeshConfig();

function service(
  name: string,
  overrides: Partial<KubernetesServiceInput['spec']> = {},
): KubernetesServiceInput {
  return {
    metadata: { name, namespace: 'shop' },
    spec: {
      clusterIP: '10.96.0.10',
      ports: [{ name: 'http-web', port: 80, targetPort: 8080 }],
      ...overrides,
    },
  };
}

function slice(
  svc: string,
  endpoints: { ip: string; pod?: string; ready?: boolean }[],
): KubernetesEndpointSliceInput {
  return {
    metadata: { name: `${svc}-1`, namespace: 'shop', labels: { 'kubernetes.io/service-name': svc } },
    addressType: 'IPv4',
    endpoints: endpoints.map((e) => ({
      addresses: [e.ip],
      ...(e.ready === undefined ? {} : { conditions: { ready: e.ready } }),
      ...(e.pod ? { targetRef: { kind: 'Pod', name: e.pod, namespace: 'shop' } } : {}),
    })),
    ports: [{ name: 'http-web', port: 8080 }],
  };
}

function inventory(
  parts: Partial<{
    services: KubernetesServiceInput[];
    slices: KubernetesEndpointSliceInput[];
    pods: KubernetesPodInput[];
    nodes: KubernetesLabelledInput[];
    namespaces: KubernetesLabelledInput[];
  }>,
): KubernetesInventory {
  return {
    services: parts.services ?? [],
    endpointSlices: parts.slices ?? [],
    pod: (ns, name) => parts.pods?.find((p) => p.metadata.namespace === ns && p.metadata.name === name),
    node: (name) => parts.nodes?.find((n) => n.metadata.name === name),
    namespace: (name) => parts.namespaces?.find((n) => n.metadata.name === name),
  };
}

describe('serviceEntriesFromKubernetes', () => {
  it('maps a Service and its ready endpoints onto the mesh model through a ServiceEntry', () => {
    const entries = serviceEntriesFromKubernetes(
      inventory({
        services: [service('web')],
        slices: [
          slice('web', [
            { ip: '10.1.0.1', pod: 'web-a' },
            { ip: '10.1.0.2', pod: 'web-b', ready: false },
          ]),
        ],
        pods: [
          {
            metadata: { name: 'web-a', namespace: 'shop', labels: { app: 'web' } },
            spec: { serviceAccountName: 'web-sa', nodeName: 'n1' },
          },
        ],
        nodes: [
          {
            metadata: {
              name: 'n1',
              labels: { 'topology.kubernetes.io/region': 'r1', 'topology.kubernetes.io/zone': 'z1' },
            },
          },
        ],
        namespaces: [{ metadata: { name: 'shop', labels: { 'topology.istio.io/network': 'net-1' } } }],
      }),
      mesh,
    );
    const model = buildMeshModel(entries, mesh);
    const svc = model.service('web.shop.svc.cluster.local');
    expect(svc).toMatchObject({
      addresses: ['10.96.0.10'],
      location: 'MESH_INTERNAL',
      resolution: 'STATIC',
      ports: [{ name: 'http-web', number: 80, protocol: 'HTTP', targetPort: 8080 }],
      serviceAccounts: ['spiffe://cluster.local/ns/shop/sa/web-sa'],
    });
    expect(model.endpoints('web.shop.svc.cluster.local', 80)).toEqual([
      expect.objectContaining({
        address: '10.1.0.1',
        port: 8080,
        // A pod without the injector's tlsMode label has no sidecar: plaintext.
        labels: { app: 'web', 'security.istio.io/tlsMode': 'disabled' },
        tlsMode: 'disabled',
        serviceAccount: 'web-sa',
        locality: 'r1/z1',
        network: 'net-1',
      }),
    ]);
  });

  it.each<{ name: string; labels: Record<string, string>; tlsMode: string }>([
    { name: 'an injected pod', labels: { 'security.istio.io/tlsMode': 'istio' }, tlsMode: 'istio' },
    { name: 'a pod without a sidecar', labels: {}, tlsMode: 'disabled' },
    {
      name: 'a pod labelled disabled',
      labels: { 'security.istio.io/tlsMode': 'disabled' },
      tlsMode: 'disabled',
    },
  ])('keeps the tlsMode of $name although every endpoint names a service account', ({ labels, tlsMode }) => {
    const entries = serviceEntriesFromKubernetes(
      inventory({
        services: [service('web')],
        slices: [slice('web', [{ ip: '10.1.0.1', pod: 'web-a' }])],
        pods: [{ metadata: { name: 'web-a', namespace: 'shop', labels: { app: 'web', ...labels } } }],
      }),
      mesh,
    );
    const [endpoint] = buildMeshModel(entries, mesh).endpoints('web.shop.svc.cluster.local', 80);
    expect(endpoint).toMatchObject({ serviceAccount: 'default', tlsMode });
  });

  it.each([
    { name: 'headless', spec: { clusterIP: 'None' }, resolution: 'NONE', addresses: [] },
    {
      name: 'ExternalName',
      spec: { type: 'ExternalName', externalName: 'db.example.com', clusterIP: '' },
      resolution: 'DNS',
      addresses: [],
    },
  ])('maps a $name Service', ({ spec, resolution, addresses }) => {
    const [entry] = serviceEntriesFromKubernetes(inventory({ services: [service('x', spec)] }), mesh);
    expect(entry?.spec.resolution).toBe(resolution);
    expect(entry?.spec.addresses).toEqual(addresses);
    if (spec.type === 'ExternalName') expect(entry?.spec.endpoints).toEqual([{ address: 'db.example.com' }]);
  });

  it('renames the generated entry when an Istio ServiceEntry has the Service name', () => {
    const [entry] = serviceEntriesFromKubernetes(
      inventory({ services: [service('web')] }),
      mesh,
      (ns, name) => ns === 'shop' && name === 'web',
    );
    expect(entry?.metadata.name).toBe('web~kubernetes');
  });
});

describe('createServiceEntryBuilder', () => {
  it('reuses an entry while its inputs are the same objects, and rebuilds it when its pod changes', () => {
    const podA = { metadata: { name: 'web-a', namespace: 'shop', labels: { version: 'v1' } } };
    const parts = {
      services: [service('web'), service('api')],
      slices: [slice('web', [{ ip: '10.1.0.1', pod: 'web-a' }]), slice('api', [{ ip: '10.1.0.9' }])],
      pods: [podA],
    };
    const build = createServiceEntryBuilder(mesh);
    const [api1, web1] = build(inventory(parts));
    const [api2, web2] = build(inventory(parts));
    expect(api2).toBe(api1);
    expect(web2).toBe(web1);
    parts.pods = [{ metadata: { ...podA.metadata, labels: { version: 'v2' } } }];
    const [api3, web3] = build(inventory(parts));
    expect(api3).toBe(api1);
    expect(web3).not.toBe(web1);
    expect(web3?.spec.endpoints?.[0]?.labels).toEqual({
      version: 'v2',
      'security.istio.io/tlsMode': 'disabled',
    });
  });
});

describe('localityOf', () => {
  it.each<{ name: string; labels: Record<string, string>; expected: string }>([
    {
      name: 'region, zone and subzone',
      labels: {
        'topology.kubernetes.io/region': 'r',
        'topology.kubernetes.io/zone': 'z',
        'topology.istio.io/subzone': 's',
      },
      expected: 'r/z/s',
    },
    { name: 'region only', labels: { 'topology.kubernetes.io/region': 'r' }, expected: 'r' },
    { name: 'no labels', labels: {}, expected: '' },
  ])('$name', ({ labels, expected }) => {
    expect(localityOf({ metadata: { name: 'n', labels } })).toBe(expected);
  });
});
