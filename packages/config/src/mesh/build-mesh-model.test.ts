import { describe, expect, it } from 'vitest';
import { parseConfigYaml } from '../loading/parse-config-yaml.ts';
import { buildMeshModel } from './build-mesh-model.ts';
import { defaultMeshConfig } from './protocol.ts';

function model(yaml: string) {
  const { objects, problems } = parseConfigYaml(yaml, 'mesh.yaml');
  expect(problems).toEqual([]);
  return buildMeshModel(objects, defaultMeshConfig({ trustDomain: 'example.org' }));
}

const entry = (spec: string, name = 'svc') => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ${name}, namespace: shop, labels: {team: a}}
spec:
${spec}`;
const workload = (name: string, address: string, extra = '') => `apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: ${name}, namespace: shop}
spec: {address: ${address}, labels: {app: cart}${extra}}
`;

describe('buildMeshModel', () => {
  it('maps a ServiceEntry with a workloadSelector onto services and endpoints', () => {
    const mesh = model(
      [
        entry(`  hosts: [cart.shop.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports:
  - {number: 80, name: http-web, targetPort: 8080}
  - {number: 9090, name: grpc, protocol: GRPC}
  workloadSelector: {labels: {app: cart}}
`),
        workload('cart-1', '10.0.0.1', ', serviceAccount: cart, locality: eu/west-1, ports: {grpc: 9999}'),
        workload('cart-2', '10.0.0.2'),
        workload('other', '10.0.0.3', ', network: n2').replace('app: cart', 'app: other'),
      ].join('---\n'),
    );
    const service = mesh.service('cart.shop.svc.cluster.local');
    expect(service).toMatchObject({
      namespace: 'shop',
      ports: [
        { name: 'http-web', number: 80, protocol: 'HTTP', targetPort: 8080 },
        { name: 'grpc', number: 9090, protocol: 'GRPC' },
      ],
      resolution: 'STATIC',
      location: 'MESH_INTERNAL',
      labels: { team: 'a' },
      exportTo: ['*'],
      serviceAccounts: ['spiffe://example.org/ns/shop/sa/cart', 'spiffe://example.org/ns/shop/sa/default'],
      origin: { kind: 'ServiceEntry', namespace: 'shop', name: 'svc' },
    });
    const summary = (port: number) =>
      mesh
        .endpoints('cart.shop.svc.cluster.local', port)
        .map((e) => `${e.workload} ${e.address}:${e.port} ${e.serviceAccount} ${e.locality}`);
    expect(summary(80)).toEqual([
      'shop/cart-1 10.0.0.1:8080 cart eu/west-1',
      'shop/cart-2 10.0.0.2:8080 default ',
    ]);
    expect(summary(9090)).toEqual([
      'shop/cart-1 10.0.0.1:9999 cart eu/west-1',
      'shop/cart-2 10.0.0.2:9090 default ',
    ]);
    expect(mesh.endpoints('cart.shop.svc.cluster.local', 1)).toEqual([]);
  });

  it('uses inline endpoints, each host a service', () => {
    const mesh = model(
      entry(`  hosts: [db.example.com, db2.example.com]
  addresses: [192.168.0.10]
  resolution: STATIC
  ports: [{number: 5432, name: tcp-pg}]
  endpoints:
  - {address: 1.1.1.1, ports: {tcp-pg: 6432}, weight: 3}
  - {address: 2.2.2.2}
`),
    );
    expect(mesh.services.map((s) => [s.hostname, s.addresses, s.location])).toEqual([
      ['db.example.com', ['192.168.0.10'], 'MESH_EXTERNAL'],
      ['db2.example.com', ['192.168.0.10'], 'MESH_EXTERNAL'],
    ]);
    expect(
      mesh.endpoints('db2.example.com', 5432).map((e) => [e.address, e.port, e.weight, e.workload]),
    ).toEqual([
      ['1.1.1.1', 6432, 3, 'ServiceEntry shop/svc[0]'],
      ['2.2.2.2', 5432, 1, 'ServiceEntry shop/svc[1]'],
    ]);
  });

  it('gives a DNS entry without endpoints its own host as endpoint, and none for NONE', () => {
    const mesh = model(
      [
        entry(
          '  hosts: [api.example.com]\n  resolution: DNS\n  ports: [{number: 443, name: tls, protocol: TLS}]\n',
          'dns',
        ),
        entry('  hosts: ["*.wiki.org"]\n  ports: [{number: 443, name: tls, protocol: TLS}]\n', 'none'),
      ].join('---\n'),
    );
    expect(mesh.endpoints('api.example.com', 443).map((e) => `${e.address}:${e.port}`)).toEqual([
      'api.example.com:443',
    ]);
    expect(mesh.endpoints('*.wiki.org', 443)).toEqual([]);
  });

  it('keeps the first ServiceEntry (by namespace/name) for a hostname', () => {
    const mesh = model(
      [
        entry('  hosts: [x.com]\n  ports: [{number: 2, name: b}]\n', 'b'),
        entry('  hosts: [x.com]\n  ports: [{number: 1, name: a}]\n', 'a'),
      ].join('---\n'),
    );
    expect(mesh.services).toHaveLength(1);
    expect(mesh.service('x.com')?.origin.name).toBe('a');
  });

  it.each([
    [
      'a named service account',
      '{address: 10.0.0.1, labels: {app: cart}, serviceAccount: cart}',
      'istio',
      'cart',
    ],
    [
      'no service account (defaulted, but no sign of a proxy)',
      '{address: 10.0.0.1, labels: {app: cart}}',
      'disabled',
      'default',
    ],
    [
      'the tlsMode label over a service account',
      '{address: 10.0.0.1, labels: {app: cart, security.istio.io/tlsMode: disabled}, serviceAccount: cart}',
      'disabled',
      'cart',
    ],
    [
      'the tlsMode label alone',
      '{address: 10.0.0.1, labels: {app: cart, security.istio.io/tlsMode: istio}}',
      'istio',
      'default',
    ],
  ])('gives a WorkloadEntry with %s the tlsMode Istio gives it', (_name, spec, tlsMode, account) => {
    const mesh = model(
      [
        entry(
          '  hosts: [cart.shop.svc.cluster.local]\n  ports: [{number: 80, name: http}]\n  workloadSelector: {labels: {app: cart}}\n',
        ),
        `apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata: {name: cart-1, namespace: shop}\nspec: ${spec}\n`,
      ].join('---\n'),
    );
    expect(
      mesh.endpoints('cart.shop.svc.cluster.local', 80).map((e) => [e.tlsMode, e.serviceAccount]),
    ).toEqual([[tlsMode, account]]);
  });

  it("gives inline endpoints the same rule and a DNS entry's own host tlsMode disabled", () => {
    const mesh = model(
      [
        entry(
          '  hosts: [db.example.com]\n  resolution: STATIC\n  ports: [{number: 5432, name: tcp}]\n  endpoints: [{address: 1.1.1.1, serviceAccount: db}, {address: 2.2.2.2}]\n',
          'inline',
        ),
        entry(
          '  hosts: [api.example.com]\n  resolution: DNS\n  ports: [{number: 443, name: tls, protocol: TLS}]\n',
          'dns',
        ),
      ].join('---\n'),
    );
    expect(mesh.endpoints('db.example.com', 5432).map((e) => e.tlsMode)).toEqual(['istio', 'disabled']);
    expect(mesh.endpoints('api.example.com', 443).map((e) => e.tlsMode)).toEqual(['disabled']);
  });
});
