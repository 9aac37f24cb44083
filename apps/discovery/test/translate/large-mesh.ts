/**
 * A large generated mesh for encode and timing tests: every service with
 * three versions, a DestinationRule using every policy kind and a
 * VirtualService using every route feature, plus a gateway with HTTP,
 * HTTPS (SDS and files) and TLS passthrough servers.
 */
import { docs, serviceYaml } from './builders.ts';

/** A mesh of `services` services with 3 versions each, DestinationRules using every policy, and VirtualServices using every route feature. */
export function largeMesh(services: number): string {
  const parts: string[] = [];
  for (let i = 0; i < services; i++) {
    const name = `svc${i}`;
    const third = i % 3;
    parts.push(
      serviceYaml({
        name,
        ports: [
          { number: 8000 + (i % 5), name: 'http', protocol: 'HTTP' },
          { number: 9000 + (i % 4), name: 'grpc', protocol: 'GRPC' },
          { number: 5432, name: 'tcp', protocol: 'TCP' },
        ],
        addresses: [`240.0.${Math.floor(i / 250)}.${(i % 250) + 1}`],
        workloads: {
          v1: `127.0.${i % 250}.${2 + third}`,
          v2: `127.1.${i % 250}.${2 + third}`,
          v3: `127.2.${i % 250}.${2 + third}`,
        },
      }),
      `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ${name}, namespace: default }
spec:
  host: ${name}
  trafficPolicy:
    loadBalancer:
      ${third === 0 ? 'simple: ROUND_ROBIN\n      localityLbSetting: { distribute: [{ from: "us/*", to: { "us/*": 70, "eu/*": 30 } }] }' : third === 1 ? 'consistentHash: { httpHeaderName: x-user, ringHash: { minimumRingSize: 1024 } }' : 'simple: LEAST_REQUEST'}
    connectionPool:
      tcp: { maxConnections: 100, connectTimeout: 3s, tcpKeepalive: { probes: 3, time: 60s, interval: 10s } }
      http: { http1MaxPendingRequests: 10, http2MaxRequests: 100, maxRequestsPerConnection: 5, maxRetries: 3, idleTimeout: 30s }
    outlierDetection: { consecutive5xxErrors: 5, consecutiveGatewayErrors: 3, interval: 10s, baseEjectionTime: 30s, maxEjectionPercent: 50, minHealthPercent: 20 }
    tls: { mode: SIMPLE, caCertificates: /etc/certs/ca.pem, sni: ${name}.example, subjectAltNames: [${name}.example] }
    portLevelSettings:
    - port: { number: 5432 }
      tls: { mode: DISABLE }
  subsets:
  - { name: v1, labels: { version: v1 } }
  - { name: v2, labels: { version: v2 }, trafficPolicy: { loadBalancer: { simple: RANDOM } } }
  - { name: v3, labels: { version: v3 }, trafficPolicy: { tls: { mode: MUTUAL, clientCertificate: /c.pem, privateKey: /k.pem, caCertificates: /ca.pem } } }`,
      `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ${name}, namespace: default }
spec:
  hosts: [${name}]
  http:
  - name: exact
    match: [{ uri: { exact: /exact }, headers: { x-a: { exact: a } }, queryParams: { q: { exact: "1" } }, method: { exact: GET } }]
    fault: { delay: { fixedDelay: 1s, percentage: { value: 10 } }, abort: { httpStatus: 503, percentage: { value: 1.5 } } }
    route: [{ destination: { host: ${name}, subset: v1, port: { number: ${8000 + (i % 5)} } } }]
  - name: regex
    match: [{ uri: { regex: "/r/[0-9]+" }, withoutHeaders: { x-b: {} } }]
    rewrite: { uri: /rewritten, authority: other.example }
    retries: { attempts: 3, perTryTimeout: 2s, retryOn: "5xx,connect-failure,429" }
    timeout: 10s
    mirror: { host: ${name}, subset: v3 }
    mirrorPercentage: { value: 25 }
    headers:
      request: { set: { x-set: "1" }, add: { x-add: "2" }, remove: [x-drop] }
      response: { set: { x-resp: "1" } }
    corsPolicy: { allowOrigins: [{ exact: "https://a.example" }], allowMethods: [GET, POST], maxAge: 24h, allowCredentials: true }
    route:
    - { destination: { host: ${name}, subset: v1, port: { number: ${8000 + (i % 5)} } }, weight: 70, headers: { request: { set: { x-v: v1 } } } }
    - { destination: { host: ${name}, subset: v2, port: { number: ${8000 + (i % 5)} } }, weight: 30 }
  - name: redirect
    match: [{ uri: { prefix: /old } }]
    redirect: { uri: /new, authority: new.example, redirectCode: 302 }
  - name: direct
    match: [{ uri: { prefix: /health } }]
    directResponse: { status: 200, body: { string: ok } }
  - route: [{ destination: { host: ${name}, port: { number: ${8000 + (i % 5)} } } }]
  tcp:
  - route:
    - { destination: { host: ${name}, subset: v1, port: { number: 5432 } }, weight: 50 }
    - { destination: { host: ${name}, subset: v2, port: { number: 5432 } }, weight: 50 }`,
    );
  }
  parts.push(`apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: gw, namespace: default }
spec:
  selector: { istio: ingressgateway }
  servers:
  - { port: { number: 8080, name: http, protocol: HTTP }, hosts: ["*"] }
  - port: { number: 8443, name: https, protocol: HTTPS }
    hosts: [svc0.example]
    tls: { mode: SIMPLE, credentialName: svc0-cert }
  - port: { number: 8443, name: https-files, protocol: HTTPS }
    hosts: [svc1.example]
    tls: { mode: MUTUAL, serverCertificate: /s.pem, privateKey: /k.pem, caCertificates: /ca.pem }
  - port: { number: 9443, name: tls, protocol: TLS }
    hosts: [svc2.example]
    tls: { mode: PASSTHROUGH }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: gw-routes, namespace: default }
spec:
  hosts: [svc0.example, svc1.example, svc2.example]
  gateways: [gw]
  http:
  - route: [{ destination: { host: svc0, port: { number: 8000 } } }]
  tls:
  - match: [{ sniHosts: [svc2.example] }]
    route: [{ destination: { host: svc2, port: { number: 8002 } } }]`);
  return docs(...parts);
}
