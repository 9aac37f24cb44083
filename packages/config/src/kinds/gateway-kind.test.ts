import { describe, expect, it } from 'vitest';
import { errorsOf, https, problemsOf, server } from '../../test/kind-builders.ts';

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

describe('Gateway TLS and ports, as Istio checks them', () => {
  const tlsServer = (tls: Record<string, unknown>) => ({ servers: [https(tls)] });
  it.each([
    [
      'MUTUAL with files and a CA',
      tlsServer({
        mode: 'MUTUAL',
        serverCertificate: '/c.pem',
        privateKey: '/k.pem',
        caCertificates: '/ca.pem',
      }),
    ],
    ['MUTUAL with a credentialName', tlsServer({ mode: 'MUTUAL', credentialName: 'cred' })],
    [
      'two tlsCertificates',
      tlsServer({
        mode: 'SIMPLE',
        tlsCertificates: [
          { serverCertificate: '/a.pem', privateKey: '/a.key' },
          { serverCertificate: '/b.pem', privateKey: '/b.key' },
        ],
      }),
    ],
    ['an HTTP server redirecting to HTTPS', { servers: [server({ tls: { httpsRedirect: true } })] }],
  ])('accepts %s', (_name, spec) => {
    expect(errorsOf('Gateway', spec)).toEqual([]);
  });

  it.each([
    [
      'two certificate sources',
      tlsServer({ mode: 'SIMPLE', credentialName: 'c', serverCertificate: '/c.pem', privateKey: '/k.pem' }),
      'spec.servers[0].tls: only one of credentialName, credentialNames, serverCertificate/privateKey, tlsCertificates may be set',
    ],
    [
      'MUTUAL without a client CA',
      tlsServer({ mode: 'MUTUAL', serverCertificate: '/c.pem', privateKey: '/k.pem' }),
      'spec.servers[0].tls: MUTUAL requires caCertificates (the client CA bundle)',
    ],
    [
      'ISTIO_MUTUAL with a credential',
      tlsServer({ mode: 'ISTIO_MUTUAL', credentialName: 'c' }),
      "spec.servers[0].tls: ISTIO_MUTUAL uses the mesh's certificates: no certificates, keys or credentials may be set",
    ],
    [
      'a CRL with SIMPLE',
      tlsServer({ mode: 'SIMPLE', serverCertificate: '/c.pem', privateKey: '/k.pem', caCrl: '/crl.pem' }),
      'spec.servers[0].tls.caCrl: not supported with SIMPLE TLS',
    ],
    [
      'TLS settings on a TCP server',
      {
        servers: [
          server({ port: { number: 31400, name: 'tcp', protocol: 'TCP' }, tls: { httpsRedirect: true } }),
        ],
      },
      'spec.servers[0].tls: a TCP server cannot have TLS settings',
    ],
    [
      'certificates on a plain HTTP server',
      { servers: [server({ tls: { httpsRedirect: true, serverCertificate: '/c.pem' } })] },
      'spec.servers[0].tls: a plain-text HTTP server may only set tls.httpsRedirect',
    ],
    [
      'a port without name',
      { servers: [server({ port: { number: 80, protocol: 'HTTP' } })] },
      'spec.servers[0].port.name: required',
    ],
    [
      'a targetPort',
      { servers: [server({ port: { number: 80, name: 'http', protocol: 'HTTP', targetPort: 8080 } })] },
      'spec.servers[0].port.targetPort: targetPort has no effect on Gateway and Sidecar listeners',
    ],
  ])('rejects %s', (_name, spec, expected) => {
    expect(errorsOf('Gateway', spec)).toContain(expected);
  });

  it('warns that PASSTHROUGH ignores certificates', () => {
    expect(problemsOf('Gateway', tlsServer({ mode: 'PASSTHROUGH', credentialName: 'c' }))).toEqual([
      'warning spec.servers[0].tls: PASSTHROUGH does not terminate TLS: the certificates are ignored',
    ]);
  });
});
