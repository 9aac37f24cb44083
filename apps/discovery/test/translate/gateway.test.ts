/**
 * Gateway simulation: Gateway servers become listeners, VirtualServices
 * bound to the gateway become routes, host matching decides which virtual
 * host a request lands on.
 */
import { LISTENER_TYPE_URL, ROUTE_TYPE_URL } from '@weft/xds';
import { describe, expect, it } from 'vitest';
import { docs, generate, head, router, serviceYaml, simulate } from './builders.ts';

const services = docs(
  serviceYaml({ name: 'productpage', workloads: { v1: '127.0.0.2' } }),
  serviceYaml({ name: 'reviews', workloads: { v1: '127.0.0.4' } }),
  serviceYaml({ name: 'shop', namespace: 'retail', workloads: { v1: '127.0.0.8' } }),
);

const gateway = `${head('Gateway', 'public')}
  selector: { istio: ingressgateway }
  servers:
  - port: { number: 8080, name: http, protocol: HTTP }
    hosts: ["*.example.com", "bookinfo.local", "retail/*"]
  - port: { number: 8443, name: https, protocol: HTTPS }
    hosts: [secure.example.com]
    tls: { mode: SIMPLE, credentialName: secure-cert }
  - port: { number: 9443, name: tls, protocol: TLS }
    hosts: [passthrough.example.com]
    tls: { mode: PASSTHROUGH }`;

const routes = `${head('VirtualService', 'bookinfo')}
  hosts: [bookinfo.local]
  gateways: [public]
  http:
  - name: productpage
    match: [{ uri: { exact: /productpage } }, { uri: { prefix: /static } }]
    route: [{ destination: { host: productpage, port: { number: 9080 } } }]
---
${head('VirtualService', 'wildcard')}
  hosts: ["*.example.com"]
  gateways: [default/public]
  http:
  - name: reviews
    route: [{ destination: { host: reviews } }]
---
${head('VirtualService', 'api')}
  hosts: [api.example.com]
  gateways: [public]
  http:
  - name: api
    route: [{ destination: { host: productpage } }]
---
${head('VirtualService', 'shop', 'retail')}
  hosts: [shop.retail.example]
  gateways: [default/public]
  http:
  - name: shop
    route: [{ destination: { host: shop } }]
---
${head('VirtualService', 'mesh-only')}
  hosts: [internal.example.com]
  http:
  - name: mesh-only
    route: [{ destination: { host: reviews } }]
---
${head('VirtualService', 'passthrough')}
  hosts: [passthrough.example.com]
  gateways: [public]
  tls:
  - match: [{ sniHosts: [passthrough.example.com] }]
    route: [{ destination: { host: reviews, port: { number: 9080 } } }]`;

const config = docs(services, gateway, routes);

describe('gateway host matching', () => {
  it.each([
    [
      'an exact host',
      'bookinfo.local',
      '/productpage',
      {
        virtualHost: 'bookinfo.local:8080',
        routeName: 'productpage',
        cluster: 'outbound|9080||productpage.default.svc.cluster.local',
        endpoint: '127.0.0.2:9080',
      },
    ],
    [
      'an exact host with port',
      'bookinfo.local:8080',
      '/static/app.js',
      { virtualHost: 'bookinfo.local:8080', cluster: 'outbound|9080||productpage.default.svc.cluster.local' },
    ],
    [
      'a concrete host beats the wildcard',
      'api.example.com',
      '/',
      {
        virtualHost: 'api.example.com:8080',
        routeName: 'api',
        cluster: 'outbound|9080||productpage.default.svc.cluster.local',
      },
    ],
    [
      'other hosts under the wildcard',
      'www.example.com',
      '/',
      {
        virtualHost: '*.example.com:8080',
        routeName: 'reviews',
        cluster: 'outbound|9080||reviews.default.svc.cluster.local',
      },
    ],
    [
      'a namespace-scoped server host admits that namespace',
      'shop.retail.example',
      '/',
      {
        virtualHost: 'shop.retail.example:8080',
        cluster: 'outbound|9080||shop.retail.svc.cluster.local',
        endpoint: '127.0.0.8:9080',
      },
    ],
  ])('routes %s', (_name, authority, path, expected) => {
    const result = simulate(config, { port: 8080, authority, path }, router());
    expect(result).toMatchObject({ listener: '0.0.0.0_8080', routeConfig: 'http.8080', ...expected });
  });

  it.each([
    ['a host no server admits', 'evil.test'],
    ['a host under no server wildcard', 'example.com.evil'],
  ])('answers 404 for %s', (_name, authority) => {
    expect(simulate(config, { port: 8080, authority }, router()).error).toMatch(/404/);
  });

  it('does not bind mesh-only VirtualServices to the gateway', () => {
    const result = simulate(config, { port: 8080, authority: 'internal.example.com' }, router());
    expect(result.routeName).toBe('reviews');
  });

  it('returns 404 for a path the bound VirtualService does not route', () => {
    expect(
      simulate(config, { port: 8080, authority: 'bookinfo.local', path: '/admin' }, router()).error,
    ).toBe('no route matched (404)');
  });

  it('serves nothing to a router whose labels no Gateway selects', () => {
    const listeners = generate(config, router({ istio: 'egressgateway' })).resources[LISTENER_TYPE_URL];
    expect(listeners).toEqual([]);
  });

  it('answers 404 from a blackhole virtual host when nothing is bound to a server', () => {
    const result = simulate(docs(services, gateway), { port: 8080, authority: 'bookinfo.local' }, router());
    expect(result).toMatchObject({ virtualHost: 'blackhole:8080', directResponse: { status: 404 } });
  });
});

describe('gateway TLS', () => {
  it('terminates HTTPS by SNI with the SDS credential and routes by host', () => {
    const result = simulate(
      config,
      { port: 8443, sni: 'secure.example.com', authority: 'secure.example.com' },
      router(),
    );
    expect(result).toMatchObject({
      listener: '0.0.0.0_8443',
      filterChain: 'https.8443.https.public.default',
      routeConfig: 'https.8443.https.public.default',
      virtualHost: 'secure.example.com:8443',
      cluster: 'outbound|9080||reviews.default.svc.cluster.local',
    });
    const listener = generate(config, router()).resources[LISTENER_TYPE_URL]?.find(
      (l) => l.name === '0.0.0.0_8443',
    )?.body;
    expect(listener).toMatchObject({
      listenerFilters: [{ name: 'envoy.filters.listener.tls_inspector' }],
      filterChains: [
        {
          filterChainMatch: { serverNames: ['secure.example.com'] },
          transportSocket: {
            typedConfig: {
              commonTlsContext: { tlsCertificateSdsSecretConfigs: [{ name: 'kubernetes://secure-cert' }] },
            },
          },
        },
      ],
    });
  });

  it('has no chain for an unknown SNI on an HTTPS port', () => {
    expect(simulate(config, { port: 8443, sni: 'other.example.com' }, router()).error).toBe(
      'no filter chain matched',
    );
  });

  it('passes TLS through by SNI to the VirtualService tls route', () => {
    expect(simulate(config, { port: 9443, sni: 'passthrough.example.com' }, router())).toMatchObject({
      listener: '0.0.0.0_9443',
      cluster: 'outbound|9080||reviews.default.svc.cluster.local',
      endpoint: '127.0.0.4:9080',
    });
  });

  it('terminates TLS on a TLS server and forwards the bytes per the tcp route', () => {
    const yaml = docs(
      services,
      `${head('Gateway', 'db-edge')}
  selector: { istio: ingressgateway }
  servers:
  - port: { number: 5443, name: tls-db, protocol: TLS }
    hosts: [db.example.com]
    tls: { mode: SIMPLE, serverCertificate: /certs/db.pem, privateKey: /certs/db.key }
---
${head('VirtualService', 'db-edge')}
  hosts: [db.example.com]
  gateways: [db-edge]
  tcp: [{ route: [{ destination: { host: reviews, port: { number: 9080 } } }] }]`,
    );
    expect(simulate(yaml, { port: 5443, sni: 'db.example.com' }, router())).toMatchObject({
      cluster: 'outbound|9080||reviews.default.svc.cluster.local',
    });
    const listener = generate(yaml, router()).resources[LISTENER_TYPE_URL]?.[0]?.body ?? {};
    const chain = (listener.filterChains as Record<string, unknown>[])[0];
    expect(chain).toMatchObject({
      filterChainMatch: { serverNames: ['db.example.com'] },
      transportSocket: {
        typedConfig: {
          commonTlsContext: { tlsCertificates: [{ certificateChain: { filename: '/certs/db.pem' } }] },
        },
      },
    });
  });

  it('redirects plain HTTP to HTTPS only for the hosts of the server that asks for it', () => {
    const redirecting = gateway.replace(
      'hosts: ["*.example.com", "bookinfo.local", "retail/*"]',
      'hosts: ["bookinfo.local"]\n    tls: { httpsRedirect: true }\n  - port: { number: 8080, name: http-plain, protocol: HTTP }\n    hosts: ["*.example.com", "bookinfo.local"]',
    );
    const route = generate(docs(services, redirecting, routes), router()).resources[ROUTE_TYPE_URL]?.find(
      (r) => r.name === 'http.8080',
    )?.body;
    const hosts = (
      (route?.virtualHosts ?? []) as { name: string; requireTls?: string; routes: unknown[] }[]
    ).map((v) => [v.name, v.requireTls ?? 'NONE', v.routes.length]);
    expect(hosts).toEqual([
      ['*.example.com:8080', 'NONE', 1],
      ['api.example.com:8080', 'NONE', 1],
      ['bookinfo.local:8080', 'ALL', 2],
    ]);
  });
});
