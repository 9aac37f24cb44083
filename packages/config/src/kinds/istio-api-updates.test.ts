import { describe, expect, it } from 'vitest';
import { dest, dr, errorsOf, problemsOf, route, se, vs } from '../../test/kind-builders.ts';

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

describe('exportTo', () => {
  it.each([
    ['VirtualService', vs([route(dest('a'))], { exportTo: ['.', 'istio-system'] })],
    ['ServiceEntry to no one', se({ exportTo: ['~'] })],
    [
      'DestinationRule with a selector, own namespace',
      dr({ workloadSelector: { matchLabels: { app: 'a' } }, exportTo: ['.'] }),
    ],
  ])('accepts %s', (kind, spec) => {
    const k = kind.split(' ')[0] as 'VirtualService' | 'ServiceEntry' | 'DestinationRule';
    expect(errorsOf(k, spec)).toEqual([]);
  });

  it.each([
    [
      'a duplicate of the own namespace',
      'VirtualService',
      vs([route(dest('a'))], { exportTo: ['default', '.'] }),
      'spec.exportTo[1]: "." duplicates namespace default',
    ],
    [
      '"*" with others',
      'VirtualService',
      vs([route(dest('a'))], { exportTo: ['*', 'a'] }),
      'spec.exportTo: "*" cannot be combined with other entries',
    ],
    [
      '"~" outside ServiceEntry',
      'VirtualService',
      vs([route(dest('a'))], { exportTo: ['~'] }),
      'spec.exportTo[0]: "~" is not ".", "*" or a namespace name',
    ],
    [
      'a selector DestinationRule exported elsewhere',
      'DestinationRule',
      dr({ workloadSelector: { matchLabels: { app: 'a' } }, exportTo: ['*'] }),
      'spec.exportTo: a DestinationRule with a workloadSelector can only be exported to its own namespace',
    ],
  ] as const)('rejects %s', (_name, kind, spec, expected) => {
    expect(errorsOf(kind, spec)).toContain(expected);
  });
});
