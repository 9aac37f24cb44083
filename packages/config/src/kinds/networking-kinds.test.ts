import { describe, expect, it } from 'vitest';
import { errorsOf, problemsOf } from '../../test/kind-builders.ts';

const dest = (host: string, extra: Record<string, unknown> = {}) => ({ destination: { host, ...extra } });
const vs = (http: unknown[], extra: Record<string, unknown> = {}) => ({ hosts: ['reviews'], http, ...extra });
const route = (...destinations: unknown[]) => ({ route: destinations });

describe('VirtualService', () => {
  it.each([
    ['a single destination without weight', vs([route(dest('reviews'))])],
    [
      'weights that do not sum to 100 (relative)',
      vs([route({ ...dest('a'), weight: 1 }, { ...dest('b'), weight: 3 })]),
    ],
    ['an IP host', { hosts: ['10.0.0.1'], tcp: [route(dest('db'))] }],
    [
      'a wildcard host on a gateway',
      vs([route(dest('a'))], { hosts: ['*'], gateways: ['istio-system/ingress'] }),
    ],
    ['a null field (pruned as Kubernetes does)', vs([{ ...route(dest('a')), timeout: null }])],
  ])('accepts %s', (_name, spec) => {
    expect(errorsOf('VirtualService', spec)).toEqual([]);
  });

  it.each([
    [
      'a negative weight',
      vs([route({ ...dest('a'), weight: -1 })]),
      'spec.http[0].route[0].weight: -1 out of range: must be >= 0',
    ],
    [
      'weights summing to zero',
      vs([route({ ...dest('a'), weight: 0 }, dest('b'))]),
      'spec.http[0].route: weights of the destinations sum to 0; at least one weight must be positive',
    ],
    [
      'a weight given as a string',
      vs([route({ ...dest('a'), weight: '50' })]),
      'spec.http[0].route[0].weight: expected an integer, got string',
    ],
    [
      'an unknown field',
      vs([{ ...route(dest('a')), rewite: {} }]),
      'spec.http[0].rewite: unknown field (did you mean "rewrite"?)',
    ],
    [
      'a regex that does not compile',
      vs([{ match: [{ uri: { regex: '[a-' } }], ...route(dest('a')) }]),
      'spec.http[0].match[0].uri.regex: invalid regex "[a-": Unterminated character class',
    ],
    [
      'a lookahead (not RE2)',
      vs([{ match: [{ uri: { regex: '/(?=x)' } }], ...route(dest('a')) }]),
      'spec.http[0].match[0].uri.regex: invalid regex "/(?=x)": lookaround is not supported by RE2',
    ],
    [
      'two kinds of string match at once',
      vs([{ match: [{ uri: { exact: '/a', prefix: '/b' } }], ...route(dest('a')) }]),
      'spec.http[0].match[0].uri: only one of exact, prefix may be set',
    ],
    [
      'route and redirect together',
      vs([{ ...route(dest('a')), redirect: { uri: '/b' } }]),
      'spec.http[0]: only one of route, redirect may be set',
    ],
    [
      'rewrite with redirect',
      vs([{ redirect: { uri: '/b' }, rewrite: { uri: '/c' } }]),
      'spec.http[0]: only one of rewrite, redirect may be set',
    ],
    [
      'no action at all',
      vs([{ match: [{ uri: { prefix: '/' } }] }]),
      'spec.http[0]: one of route, redirect, directResponse must be set',
    ],
    [
      'a port out of range',
      vs([{ match: [{ port: 70000 }], ...route(dest('a')) }]),
      'spec.http[0].match[0].port: 70000 out of range: must be in 1..65535',
    ],
    [
      'a bad host',
      { hosts: ['bad_host'], http: [route(dest('a'))] },
      'spec.hosts[0]: host "bad_host" has an invalid label "bad_host"',
    ],
    [
      'a wildcard in the middle of a host',
      { hosts: ['foo.*.com'], http: [route(dest('a'))] },
      'spec.hosts[0]: host "foo.*.com" has an invalid label "*"',
    ],
    [
      'host "*" bound to the mesh',
      { hosts: ['*'], http: [route(dest('a'))] },
      'spec.hosts[0]: wildcard host "*" is not allowed for a VirtualService bound to the mesh',
    ],
    [
      'no hosts',
      { http: [route(dest('a'))] },
      'spec.hosts: at least one host is required (delegate VirtualServices are not supported)',
    ],
    [
      'a destination without host',
      vs([route({ destination: { subset: 'v1' } })]),
      'spec.http[0].route[0].destination.host: required',
    ],
    [
      'a bad timeout',
      vs([{ ...route(dest('a')), timeout: '10 seconds' }]),
      'spec.http[0].timeout: invalid duration "10 seconds": use a number with a unit (ms, s, m, h), e.g. "1.5s"',
    ],
    [
      'an unknown retry policy',
      vs([{ ...route(dest('a')), retries: { attempts: 3, retryOn: '5xx,sometimes' } }]),
      'spec.http[0].retries.retryOn: unknown retry policy "sometimes"',
    ],
    [
      'an abort without status',
      vs([{ ...route(dest('a')), fault: { abort: { percentage: { value: 5 } } } }]),
      'spec.http[0].fault.abort: one of httpStatus, grpcStatus must be set',
    ],
    [
      'a fault percentage above 100',
      vs([{ ...route(dest('a')), fault: { delay: { fixedDelay: '1s', percentage: { value: 101 } } } }]),
      'spec.http[0].fault.delay.percentage.value: 101 out of range: must be in 0..100',
    ],
    [
      'a delay without fixedDelay',
      vs([{ ...route(dest('a')), fault: { delay: { percentage: { value: 1 } } } }]),
      'spec.http[0].fault.delay.fixedDelay: required',
    ],
    [
      'mirror and mirrors',
      vs([{ ...route(dest('a')), mirror: { host: 'b' }, mirrors: [dest('c')] }]),
      'spec.http[0]: only one of mirror, mirrors may be set',
    ],
    [
      'a mirror percentage above 100',
      vs([{ ...route(dest('a')), mirror: { host: 'b' }, mirrorPercentage: { value: 150 } }]),
      'spec.http[0].mirrorPercentage.value: 150 out of range: must be in 0..100',
    ],
    [
      'an invalid redirect code',
      vs([{ redirect: { uri: '/x', redirectCode: 200 } }]),
      'spec.http[0].redirect.redirectCode: redirect code 200 must be one of 301, 302, 303, 307, 308',
    ],
    [
      'an invalid header name to set',
      vs([{ ...route(dest('a')), headers: { request: { set: { 'bad header': 'x' } } } }]),
      'spec.http[0].headers.request.set["bad header"]: invalid header name "bad header"',
    ],
    [
      'an unknown CORS method',
      vs([{ ...route(dest('a')), corsPolicy: { allowMethods: ['FETCH'] } }]),
      'spec.http[0].corsPolicy.allowMethods[0]: unknown HTTP method "FETCH"',
    ],
    [
      'a TLS route without sniHosts',
      { hosts: ['a.com'], tls: [{ match: [{ port: 443 }], route: [dest('a')] }] },
      'spec.tls[0].match[0].sniHosts: required',
    ],
    [
      'a TCP route without destinations',
      { hosts: ['db'], tcp: [{ route: [] }] },
      'spec.tcp[0].route: at least one destination is required',
    ],
    [
      'a bad gateway reference',
      vs([route(dest('a'))], { gateways: ['a/b/c'] }),
      'spec.gateways[0]: invalid gateway reference "a/b/c": expected "mesh", "name" or "namespace/name"',
    ],
  ])('rejects %s', (_name, spec, expected) => {
    expect(errorsOf('VirtualService', spec)).toContain(expected);
  });

  it('warns about deprecated fields without rejecting', () => {
    expect(
      problemsOf('VirtualService', vs([{ ...route(dest('a')), mirror: { host: 'b' }, mirrorPercent: 5 }])),
    ).toEqual(['warning spec.http[0].mirrorPercent: deprecated: use mirrorPercentage']);
  });
});

const dr = (extra: Record<string, unknown>) => ({ host: 'reviews', ...extra });

describe('DestinationRule', () => {
  it.each([
    ['a wildcard host', { host: '*.example.com' }],
    [
      'subsets with labels',
      dr({
        subsets: [
          { name: 'v1', labels: { version: 'v1' } },
          { name: 'v2', labels: { version: 'v2' } },
        ],
      }),
    ],
    ['TLS DISABLE', dr({ trafficPolicy: { tls: { mode: 'DISABLE' } } })],
    [
      'MUTUAL with a credentialName',
      dr({ trafficPolicy: { tls: { mode: 'MUTUAL', credentialName: 'client-cert' } } }),
    ],
  ])('accepts %s', (_name, spec) => {
    expect(errorsOf('DestinationRule', spec)).toEqual([]);
  });

  it.each([
    ['no host', {}, 'spec.host: required'],
    [
      'an unknown load balancer',
      dr({ trafficPolicy: { loadBalancer: { simple: 'FASTEST' } } }),
      'spec.trafficPolicy.loadBalancer.simple: unknown value "FASTEST"; expected one of UNSPECIFIED, LEAST_CONN, RANDOM, PASSTHROUGH, ROUND_ROBIN, LEAST_REQUEST',
    ],
    [
      'simple and consistentHash',
      dr({ trafficPolicy: { loadBalancer: { simple: 'RANDOM', consistentHash: { useSourceIp: true } } } }),
      'spec.trafficPolicy.loadBalancer: only one of simple, consistentHash may be set',
    ],
    [
      'a consistentHash without key',
      dr({ trafficPolicy: { loadBalancer: { consistentHash: { ringHash: { minimumRingSize: 1024 } } } } }),
      'spec.trafficPolicy.loadBalancer.consistentHash: one of httpHeaderName, httpCookie, useSourceIp, httpQueryParameterName must be set',
    ],
    [
      'distribute weights not summing to 100',
      dr({
        trafficPolicy: {
          loadBalancer: {
            localityLbSetting: { distribute: [{ from: 'a/*', to: { 'a/*': 60, 'b/*': 30 } }] },
          },
        },
      }),
      'spec.trafficPolicy.loadBalancer.localityLbSetting.distribute[0].to: weights must sum to 100, got 90',
    ],
    [
      'distribute and failover',
      dr({ trafficPolicy: { loadBalancer: { localityLbSetting: { distribute: [], failover: [] } } } }),
      'spec.trafficPolicy.loadBalancer.localityLbSetting: only one of distribute, failover may be set',
    ],
    [
      'an unknown TLS mode',
      dr({ trafficPolicy: { tls: { mode: 'STRICT' } } }),
      'spec.trafficPolicy.tls.mode: unknown value "STRICT"; expected one of DISABLE, SIMPLE, MUTUAL, ISTIO_MUTUAL',
    ],
    [
      'MUTUAL without certificates',
      dr({ trafficPolicy: { tls: { mode: 'MUTUAL' } } }),
      'spec.trafficPolicy.tls: MUTUAL requires clientCertificate and privateKey, or credentialName',
    ],
    [
      'ISTIO_MUTUAL with certificates',
      dr({ trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL', caCertificates: '/x.pem' } } }),
      "spec.trafficPolicy.tls: ISTIO_MUTUAL uses the mesh's certificates: caCertificates must not be set",
    ],
    [
      'maxEjectionPercent above 100',
      dr({ trafficPolicy: { outlierDetection: { maxEjectionPercent: 150 } } }),
      'spec.trafficPolicy.outlierDetection.maxEjectionPercent: 150 out of range: must be in 0..100',
    ],
    [
      'zero maxConnections',
      dr({ trafficPolicy: { connectionPool: { tcp: { maxConnections: 0 } } } }),
      'spec.trafficPolicy.connectionPool.tcp.maxConnections: 0 out of range: must be in 1..2147483647',
    ],
    [
      'a port-level setting without port',
      dr({ trafficPolicy: { portLevelSettings: [{ loadBalancer: { simple: 'RANDOM' } }] } }),
      'spec.trafficPolicy.portLevelSettings[0].port: required',
    ],
    [
      'a port listed twice',
      dr({ trafficPolicy: { portLevelSettings: [{ port: { number: 80 } }, { port: { number: 80 } }] } }),
      'spec.trafficPolicy.portLevelSettings[1].port.number: port 80 is listed twice',
    ],
    [
      'duplicate subset names',
      dr({ subsets: [{ name: 'v1' }, { name: 'v1' }] }),
      'spec.subsets[1].name: duplicate subset name "v1"',
    ],
    [
      'an uppercase subset name',
      dr({ subsets: [{ name: 'V1' }] }),
      'spec.subsets[0].name: subset name "V1" must be a DNS-1123 label',
    ],
    [
      'a subset without name',
      dr({ subsets: [{ labels: { version: 'v1' } }] }),
      'spec.subsets[0].name: required',
    ],
  ])('rejects %s', (_name, spec, expected) => {
    expect(errorsOf('DestinationRule', spec)).toContain(expected);
  });
});

const server = (extra: Record<string, unknown> = {}) => ({
  port: { number: 80, name: 'http', protocol: 'HTTP' },
  hosts: ['*'],
  ...extra,
});
const https = (tls?: Record<string, unknown>) => ({
  port: { number: 443, name: 'https', protocol: 'HTTPS' },
  hosts: ['a.com'],
  ...(tls ? { tls } : {}),
});

describe('Gateway', () => {
  it.each([
    ['an HTTP server', { selector: { istio: 'ingressgateway' }, servers: [server()] }],
    ['a lowercase protocol', { servers: [server({ port: { number: 80, name: 'http', protocol: 'http' } })] }],
    ['namespaced hosts', { servers: [server({ hosts: ['./a.example.com', '*/b.example.com', 'ns1/*'] })] }],
    ['PASSTHROUGH TLS', { servers: [https({ mode: 'PASSTHROUGH' })] }],
  ])('accepts %s', (_name, spec) => {
    expect(errorsOf('Gateway', spec)).toEqual([]);
  });

  it.each([
    ['no servers', {}, 'spec.servers: required'],
    ['an empty server list', { servers: [] }, 'spec.servers: must not be empty'],
    [
      'a server without hosts',
      { servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' } }] },
      'spec.servers[0].hosts: required',
    ],
    [
      'an unknown protocol',
      { servers: [server({ port: { number: 80, name: 'x', protocol: 'QUIC' } })] },
      'spec.servers[0].port.protocol: unknown protocol "QUIC"; expected one of HTTP, HTTPS, HTTP2, GRPC, GRPC-WEB, TLS, TCP, UDP, MONGO, REDIS, MYSQL',
    ],
    [
      'port 0',
      { servers: [server({ port: { number: 0, name: 'x', protocol: 'HTTP' } })] },
      'spec.servers[0].port.number: 0 out of range: must be in 1..65535',
    ],
    ['HTTPS without tls', { servers: [https()] }, 'spec.servers[0].tls: required for protocol HTTPS'],
    [
      'SIMPLE without credentials',
      { servers: [https({ mode: 'SIMPLE' })] },
      'spec.servers[0].tls: SIMPLE requires credentialName, or serverCertificate and privateKey',
    ],
    [
      'a bad namespace in a host',
      { servers: [server({ hosts: ['Bad_NS/a.com'] })] },
      'spec.servers[0].hosts[0]: invalid namespace "Bad_NS" in "Bad_NS/a.com": expected "*", ".", "~" or a namespace name',
    ],
    [
      'a port name reused',
      { servers: [server(), server({ port: { number: 81, name: 'http', protocol: 'HTTP' } })] },
      'spec.servers[1].port.name: port name "http" is already used by port 80',
    ],
  ])('rejects %s', (_name, spec, expected) => {
    expect(errorsOf('Gateway', spec)).toContain(expected);
  });
});

const se = (extra: Record<string, unknown>) => ({
  hosts: ['api.example.com'],
  ports: [{ number: 443, name: 'https', protocol: 'TLS' }],
  ...extra,
});

describe('ServiceEntry and WorkloadEntry', () => {
  it.each([
    ['DNS resolution', se({ resolution: 'DNS', location: 'MESH_EXTERNAL' })],
    [
      'STATIC with endpoints and port map',
      se({ resolution: 'STATIC', endpoints: [{ address: '10.0.0.1', ports: { https: 8443 } }] }),
    ],
    [
      'STATIC with a workloadSelector',
      se({ resolution: 'STATIC', workloadSelector: { labels: { app: 'x' } } }),
    ],
    [
      'DNS endpoints that are host names',
      se({ resolution: 'DNS', endpoints: [{ address: 'us.api.example.com' }] }),
    ],
    ['a CIDR address', se({ addresses: ['10.1.0.0/16'] })],
    [
      'a unix socket endpoint',
      se({ resolution: 'STATIC', endpoints: [{ address: 'unix:///var/run/x.sock' }] }),
    ],
  ])('accepts %s', (_name, spec) => {
    expect(errorsOf('ServiceEntry', spec)).toEqual([]);
  });

  it.each([
    ['no hosts', { ports: [] }, 'spec.hosts: required'],
    [
      'an unknown resolution',
      se({ resolution: 'MAGIC' }),
      'spec.resolution: unknown value "MAGIC"; expected one of NONE, STATIC, DNS, DNS_ROUND_ROBIN',
    ],
    [
      'a bad address',
      se({ addresses: ['10.0.0.0/40'] }),
      'spec.addresses[0]: "10.0.0.0/40" has an invalid prefix length (0..32)',
    ],
    [
      'a port without name',
      se({ ports: [{ number: 80, protocol: 'HTTP' }] }),
      'spec.ports[0].name: required',
    ],
    [
      'a targetPort out of range',
      se({ ports: [{ number: 80, name: 'http', targetPort: 99999 }] }),
      'spec.ports[0].targetPort: 99999 out of range: must be in 1..65535',
    ],
    [
      'duplicate port numbers',
      se({
        ports: [
          { number: 80, name: 'a' },
          { number: 80, name: 'b' },
        ],
      }),
      'spec.ports[1].number: duplicate port number 80',
    ],
    [
      'endpoints with resolution NONE',
      se({ endpoints: [{ address: '1.1.1.1' }] }),
      'spec.endpoints: endpoints must not be set with resolution NONE',
    ],
    [
      'STATIC without endpoints',
      se({ resolution: 'STATIC' }),
      'spec: resolution STATIC needs endpoints or a workloadSelector',
    ],
    [
      'a STATIC endpoint that is a name',
      se({ resolution: 'STATIC', endpoints: [{ address: 'db.local' }] }),
      'spec.endpoints[0].address: address "db.local" must be an IP address or unix:// path with resolution STATIC',
    ],
    [
      'endpoints and workloadSelector',
      se({
        resolution: 'STATIC',
        endpoints: [{ address: '1.1.1.1' }],
        workloadSelector: { labels: { a: 'b' } },
      }),
      'spec: only one of endpoints, workloadSelector may be set',
    ],
    [
      'an endpoint port for an undeclared name',
      se({ resolution: 'STATIC', endpoints: [{ address: '1.1.1.1', ports: { http: 80 } }] }),
      'spec.endpoints[0].ports.http: port name "http" is not declared in spec.ports',
    ],
    [
      'a wildcard host with DNS and no endpoints',
      se({ hosts: ['*.example.com'], resolution: 'DNS' }),
      'spec.hosts[0]: wildcard host "*.example.com" cannot be resolved with DNS when no endpoints are given',
    ],
  ])('rejects %s', (_name, spec, expected) => {
    expect(errorsOf('ServiceEntry', spec)).toContain(expected);
  });

  it.each([
    [
      'no address',
      { labels: { app: 'x' } },
      'spec.address: required (unless network names a remote network)',
    ],
    [
      'a bad port',
      { address: '10.0.0.1', ports: { http: 0 } },
      'spec.ports.http: 0 out of range: must be in 1..65535',
    ],
    [
      'a bad locality',
      { address: '10.0.0.1', locality: 'a/b/c/d' },
      'spec.locality: locality "a/b/c/d" must be region/zone/subzone',
    ],
    [
      'a negative weight',
      { address: '10.0.0.1', weight: -1 },
      'spec.weight: -1 out of range: must be in 0..4294967295',
    ],
    [
      'a bad label key',
      { address: '10.0.0.1', labels: { 'bad key': 'x' } },
      'spec.labels["bad key"]: invalid label key "bad key"',
    ],
  ])('rejects a WorkloadEntry with %s', (_name, spec, expected) => {
    expect(errorsOf('WorkloadEntry', spec)).toContain(expected);
  });
});

describe('Sidecar', () => {
  it.each([
    [
      'egress hosts and REGISTRY_ONLY',
      { egress: [{ hosts: ['./*', 'istio-system/*'] }], outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' } },
    ],
    [
      'an egress proxy with ALLOW_ANY',
      {
        outboundTrafficPolicy: {
          mode: 'ALLOW_ANY',
          egressProxy: { host: 'proxy.example.com', port: { number: 3128 } },
        },
      },
    ],
  ])('accepts %s', (_name, spec) => {
    expect(errorsOf('Sidecar', spec)).toEqual([]);
  });

  it.each([
    [
      'an egress host without namespace',
      { egress: [{ hosts: ['foo.com'] }] },
      'spec.egress[0].hosts[0]: host "foo.com" must be namespace/dnsName (use "*/foo.com" for any namespace)',
    ],
    [
      'an egress listener without hosts',
      { egress: [{ port: { number: 80, protocol: 'HTTP', name: 'h' } }] },
      'spec.egress[0].hosts: required',
    ],
    [
      'two catch-all egress listeners',
      { egress: [{ hosts: ['./*'] }, { hosts: ['*/*'] }] },
      'spec.egress[1]: only one egress listener may omit port',
    ],
    [
      'an unknown outbound mode',
      { outboundTrafficPolicy: { mode: 'OPEN' } },
      'spec.outboundTrafficPolicy.mode: unknown value "OPEN"; expected one of REGISTRY_ONLY, ALLOW_ANY',
    ],
    [
      'an egress proxy with REGISTRY_ONLY',
      { outboundTrafficPolicy: { mode: 'REGISTRY_ONLY', egressProxy: { host: 'p' } } },
      'spec.outboundTrafficPolicy.egressProxy: egressProxy is only allowed with mode ALLOW_ANY',
    ],
    [
      'a bad default endpoint',
      { ingress: [{ port: { number: 80, protocol: 'HTTP', name: 'h' }, defaultEndpoint: '10.0.0.1:80' }] },
      'spec.ingress[0].defaultEndpoint: "10.0.0.1:80" must be 127.0.0.1:PORT, 0.0.0.0:PORT or unix://PATH',
    ],
  ])('rejects %s', (_name, spec, expected) => {
    expect(errorsOf('Sidecar', spec)).toContain(expected);
  });

  it('warns about an empty Sidecar', () => {
    expect(problemsOf('Sidecar', {})).toEqual(['warning spec: empty Sidecar: it changes nothing']);
  });
});

describe('fields of recent Istio releases and edge cases from Istio’s CRD validation', () => {
  it.each([
    [
      'an empty port protocol (unset)',
      'ServiceEntry',
      se({ ports: [{ number: 80, name: 'http', protocol: '' }] }),
    ],
    [
      'warmup (slow start)',
      'DestinationRule',
      dr({
        trafficPolicy: {
          loadBalancer: {
            simple: 'ROUND_ROBIN',
            warmup: { duration: '60s', minimumPercent: 5, aggression: 2 },
          },
        },
      }),
    ],
    [
      'HTTP/2 keepalive',
      'DestinationRule',
      dr({
        trafficPolicy: { connectionPool: { http: { http2KeepAlive: { interval: '15s', timeout: '5s' } } } },
      }),
    ],
    ['an abstract unix socket', 'WorkloadEntry', { address: 'unix://@foo' }],
  ] as const)('accepts %s', (_name, kind, spec) => {
    expect(errorsOf(kind, spec)).toEqual([]);
  });

  it.each([
    [
      'host "*"',
      'ServiceEntry',
      se({ hosts: ['*'] }),
      'spec.hosts[0]: host "*" is not allowed in a ServiceEntry',
    ],
    [
      'a CIDR with DNS resolution',
      'ServiceEntry',
      se({ addresses: ['10.0.0.0/16'], resolution: 'DNS' }),
      'spec.addresses[0]: CIDR "10.0.0.0/16" is only allowed with resolution NONE or STATIC',
    ],
    [
      'a relative unix socket',
      'WorkloadEntry',
      { address: 'unix://relative' },
      'spec.address: "unix://relative": a unix socket path must be absolute or abstract (@name)',
    ],
    [
      'a unix socket directory',
      'WorkloadEntry',
      { address: 'unix:///dir/' },
      'spec.address: "unix:///dir/": a unix socket path must name a socket, not a directory',
    ],
    [
      'a unix socket with ports',
      'WorkloadEntry',
      { address: 'unix://@foo', ports: { http: 80 } },
      'spec.ports: a unix socket address takes no ports',
    ],
    [
      'a bad port name',
      'WorkloadEntry',
      { address: '1.1.1.1', ports: { '@': 80 } },
      'spec.ports["@"]: invalid port name "@"',
    ],
    [
      'warmup without duration',
      'DestinationRule',
      dr({ trafficPolicy: { loadBalancer: { warmup: { minimumPercent: 5 } } } }),
      'spec.trafficPolicy.loadBalancer.warmup.duration: required',
    ],
    [
      'HTTP/2 keepalive without timeout',
      'DestinationRule',
      dr({ trafficPolicy: { connectionPool: { http: { http2KeepAlive: { interval: '15s' } } } } }),
      'spec.trafficPolicy.connectionPool.http.http2KeepAlive.timeout: required',
    ],
  ] as const)('rejects %s', (_name, kind, spec, expected) => {
    expect(errorsOf(kind, spec)).toContain(expected);
  });
});

describe('fields added in recent Istio API releases', () => {
  it.each([
    [
      'a prefix redirect',
      'VirtualService',
      vs([
        {
          match: [{ uri: { prefix: '/foo/' } }],
          redirect: { authority: 'foo.example.com', prefixRewrite: '/' },
        },
      ]),
    ],
    [
      'retry backoff and previous hosts',
      'VirtualService',
      vs([
        { ...route(dest('a')), retries: { attempts: 2, backoff: '25ms', retryIgnorePreviousHosts: true } },
      ]),
    ],
    [
      'routing on a JWT claim',
      'VirtualService',
      vs([
        { match: [{ headers: { '@request.auth.claims.groups': { exact: 'group1' } } }], ...route(dest('a')) },
      ]),
    ],
    [
      'zone-aware load balancing',
      'DestinationRule',
      dr({
        trafficPolicy: {
          loadBalancer: {
            simple: 'LEAST_REQUEST',
            zoneAwareLbSetting: { enabled: true, failover: [{ from: 'us-east', to: 'eu-west' }] },
          },
        },
      }),
    ],
    [
      'a retry budget and outlier error codes',
      'DestinationRule',
      dr({
        trafficPolicy: {
          retryBudget: { percent: 20, minRetryConcurrency: 3 },
          outlierDetection: { outlierDetectionHttpErrorCodes: [502, 503] },
        },
      }),
    ],
    [
      'cookie attributes',
      'DestinationRule',
      dr({
        trafficPolicy: {
          loadBalancer: {
            consistentHash: {
              httpCookie: { name: 'u', ttl: '0s', attributes: [{ name: 'SameSite', value: 'Strict' }] },
            },
          },
        },
      }),
    ],
    [
      'excluded egress namespaces',
      'Sidecar',
      { egress: [{ hosts: ['*/*', '~prod-us2/*', '~/bar.example.com'] }] },
    ],
    [
      'several server certificates',
      'Gateway',
      {
        servers: [
          {
            port: { number: 443, name: 'https', protocol: 'HTTPS' },
            hosts: ['a.com'],
            tls: { mode: 'SIMPLE', credentialNames: ['rsa', 'ecdsa'], caCertCredentialName: 'ca' },
          },
        ],
      },
    ],
  ] as const)('accepts %s', (_name, kind, spec) => {
    expect(errorsOf(kind, spec)).toEqual([]);
  });

  it.each([
    [
      'redirect uri with prefixRewrite',
      'VirtualService',
      vs([{ redirect: { uri: '/a', prefixRewrite: '/' } }]),
      'spec.http[0].redirect: only one of uri, prefixRewrite may be set',
    ],
    [
      'locality and zone-aware settings together',
      'DestinationRule',
      dr({
        trafficPolicy: {
          loadBalancer: { localityLbSetting: { enabled: true }, zoneAwareLbSetting: { enabled: true } },
        },
      }),
      'spec.trafficPolicy.loadBalancer: only one of localityLbSetting, zoneAwareLbSetting may be set',
    ],
    [
      'an outlier error code out of range',
      'DestinationRule',
      dr({ trafficPolicy: { outlierDetection: { outlierDetectionHttpErrorCodes: [700] } } }),
      'spec.trafficPolicy.outlierDetection.outlierDetectionHttpErrorCodes[0]: 700 out of range: must be in 100..599',
    ],
    [
      'a field set in both spellings',
      'VirtualService',
      vs([{ redirect: { redirectCode: 301, redirect_code: 302 } }]),
      'spec.http[0].redirect.redirect_code: set twice, as redirect_code and redirectCode',
    ],
  ] as const)('rejects %s', (_name, kind, spec, expected) => {
    expect(errorsOf(kind, spec)).toContain(expected);
  });

  it('accepts proto field names (snake_case) with a warning and normalizes them', () => {
    expect(problemsOf('VirtualService', vs([{ redirect: { uri: '/a', redirect_code: 302 } }]))).toEqual([
      'warning spec.http[0].redirect.redirect_code: proto field name; write redirectCode (Kubernetes accepts only camelCase)',
    ]);
  });
});
