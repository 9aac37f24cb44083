import { describe, expect, it } from 'vitest';
import { errorsOf, se } from '../../test/kind-builders.ts';

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
