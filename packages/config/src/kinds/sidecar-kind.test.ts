import { describe, expect, it } from 'vitest';
import { errorsOf, problemsOf } from '../../test/kind-builders.ts';

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

describe('Sidecar listeners, as Istio checks them', () => {
  const egressPort = (number: number) => ({ number, protocol: 'HTTP', name: `http-${number}` });
  it.each([
    [
      'the catch-all egress listener before others',
      { egress: [{ hosts: ['./*'] }, { port: egressPort(80), hosts: ['./*'] }] },
      'spec.egress[0]: the egress listener without port must be the last one',
    ],
    [
      'an egress port used twice',
      {
        egress: [
          { port: egressPort(80), hosts: ['./*'] },
          { port: egressPort(80), hosts: ['*/*'] },
        ],
      },
      'spec.egress[1].port.number: port 80 is already used by egress[0]',
    ],
    [
      'an ingress port used twice',
      { ingress: [{ port: egressPort(80) }, { port: egressPort(80) }] },
      'spec.ingress[1].port.number: port 80 is already used by ingress[0]',
    ],
    [
      'credentialName in ingress TLS',
      {
        ingress: [
          {
            port: { number: 443, protocol: 'HTTPS', name: 'https' },
            tls: { mode: 'SIMPLE', credentialName: 'c' },
          },
        ],
      },
      'spec.ingress[0].tls: not supported in Sidecar ingress TLS: credentialName',
    ],
    [
      'ISTIO_MUTUAL in ingress TLS',
      {
        ingress: [{ port: { number: 443, protocol: 'HTTPS', name: 'https' }, tls: { mode: 'ISTIO_MUTUAL' } }],
      },
      'spec.ingress[0].tls.mode: ISTIO_MUTUAL is not allowed in Sidecar ingress TLS',
    ],
  ])('rejects %s', (_name, spec, expected) => {
    expect(errorsOf('Sidecar', spec)).toContain(expected);
  });

  it('warns about duplicate hosts and hosts next to */*', () => {
    expect(problemsOf('Sidecar', { egress: [{ hosts: ['*/*', './a.com', './a.com'] }] })).toEqual([
      'warning spec.egress[0].hosts[2]: duplicate host "./a.com"',
      'warning spec.egress[0].hosts: "*/*" already selects every host; the other entries add nothing',
    ]);
  });
});
