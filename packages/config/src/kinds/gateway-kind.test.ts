import { describe, expect, it } from 'vitest';
import { errorsOf, https, server } from '../../test/kind-builders.ts';

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
