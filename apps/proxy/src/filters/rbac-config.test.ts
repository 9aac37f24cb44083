import { describe, expect, it } from 'vitest';
import type { Body } from '../config/problems.ts';
import { ProblemList } from '../config/problems.ts';
import { networkRbacAllows } from '../security/network-rbac.ts';
import { compileRbac, evaluateRbac, type RbacConfig, type RbacInput } from './rbac-config.ts';

const PRODUCTPAGE = 'spiffe://cluster.local/ns/default/sa/productpage';

function compiled(action: string, policies: Record<string, Body>): RbacConfig {
  const problems = new ProblemList();
  const config = compileRbac({ rules: { action, policies } }, '', problems);
  if (!problems.empty || !config) throw new Error(JSON.stringify(problems.items));
  return config;
}

function request(overrides: Partial<RbacInput> & { headerMap?: Record<string, string> } = {}): RbacInput {
  const headerMap = overrides.headerMap ?? { ':method': 'GET', ':path': '/reviews/1' };
  return {
    peerPrincipal: PRODUCTPAGE,
    authenticated: true,
    sourceIp: '127.0.0.3',
    remoteIp: '127.0.0.3',
    destinationIp: '127.0.0.2',
    destinationPort: 9080,
    sni: '',
    headers: (name) => headerMap[name],
    path: '/reviews/1',
    metadata: {},
    ...overrides,
  };
}

const principalName = (exact: string): Body => ({ authenticated: { principalName: { exact } } });
const header = (name: string, exact: string): Body => ({ header: { name, stringMatch: { exact } } });
const policy = (permissions: Body[], principals: Body[]): Body => ({ permissions, principals });
const jwtGroups = (group: string): Body => ({
  metadata: {
    filter: 'envoy.filters.http.jwt_authn',
    path: [{ key: 'payload' }, { key: 'groups' }],
    value: { listMatch: { oneOf: { stringMatch: { exact: group } } } },
  },
});

describe('RBAC semantics (as weft-discovery states them in rbac-evaluator.ts)', () => {
  it.each([
    ['ALLOW with no policies denies everything', compiled('ALLOW', {}), request(), false],
    [
      'ALLOW grants when a permission and a principal match',
      compiled('ALLOW', { p: policy([header(':method', 'GET')], [principalName(PRODUCTPAGE)]) }),
      request(),
      true,
    ],
    [
      'ALLOW needs the principal too',
      compiled('ALLOW', { p: policy([{ any: true }], [principalName('spiffe://cluster.local/ns/x/sa/y')]) }),
      request(),
      false,
    ],
    [
      'authenticated never matches without a verified certificate',
      compiled('ALLOW', { p: policy([{ any: true }], [{ authenticated: {} }]) }),
      request({ authenticated: false, peerPrincipal: undefined }),
      false,
    ],
    [
      'DENY denies when a policy matches',
      compiled('DENY', { d: policy([header(':method', 'DELETE')], [{ any: true }]) }),
      request({ headerMap: { ':method': 'DELETE' } }),
      false,
    ],
    [
      'DENY allows when none matches',
      compiled('DENY', { d: policy([header(':method', 'DELETE')], [{ any: true }]) }),
      request(),
      true,
    ],
    ['LOG never decides', compiled('LOG', { l: policy([{ any: true }], [{ any: true }]) }), request(), true],
    [
      'andRules with notRule: GET but not /admin*',
      compiled('ALLOW', {
        p: policy(
          [
            {
              andRules: {
                rules: [header(':method', 'GET'), { notRule: { urlPath: { path: { prefix: '/admin' } } } }],
              },
            },
          ],
          [{ any: true }],
        ),
      }),
      request({ path: '/admin/x' }),
      false,
    ],
    [
      'orIds over source CIDRs',
      compiled('ALLOW', {
        p: policy(
          [{ any: true }],
          [
            {
              orIds: {
                ids: [
                  { directRemoteIp: { addressPrefix: '10.0.0.0', prefixLen: { value: 8 } } },
                  { remoteIp: { addressPrefix: '127.0.0.0', prefixLen: 8 } },
                ],
              },
            },
          ],
        ),
      }),
      request(),
      true,
    ],
    [
      'destination port',
      compiled('ALLOW', { p: policy([{ destinationPort: 9090 }], [{ any: true }]) }),
      request(),
      false,
    ],
    [
      'JWT claim list from jwt_authn metadata',
      compiled('ALLOW', { p: policy([{ any: true }], [jwtGroups('reviewers')]) }),
      request({
        metadata: { 'envoy.filters.http.jwt_authn': { payload: { groups: ['others', 'reviewers'] } } },
      }),
      true,
    ],
    [
      'JWT claim absent',
      compiled('ALLOW', { p: policy([{ any: true }], [jwtGroups('reviewers')]) }),
      request(),
      false,
    ],
    [
      'header rules never match on TCP (no request)',
      compiled('ALLOW', { p: policy([header(':method', 'GET')], [{ any: true }]) }),
      request({ headers: undefined, path: undefined }),
      false,
    ],
  ])('%s', (_name, config, input, allowed) => {
    expect(evaluateRbac(config, input).allowed).toBe(allowed);
  });

  it('names the matching policy (first by name)', () => {
    const config = compiled('DENY', {
      'b-rule': policy([{ any: true }], [{ any: true }]),
      'a-rule': policy([{ any: true }], [{ any: true }]),
    });
    expect(evaluateRbac(config, request())).toMatchObject({ allowed: false, policy: 'a-rule' });
  });

  it.each([
    [
      'an unknown permission',
      { rules: { policies: { p: policy([{ bogus: 1 }], [{ any: true }]) } } },
      "rules.policies['p'].permissions[0]: unsupported permission bogus",
    ],
    [
      'a bad CIDR',
      { rules: { policies: { p: policy([{ any: true }], [{ directRemoteIp: { addressPrefix: 'x' } }]) } } },
      "rules.policies['p'].principals[0].directRemoteIp.addressPrefix: must be an IP address",
    ],
    ['a bad action', { rules: { action: 'MAYBE' } }, 'rules.action: unsupported value'],
  ])('reports %s with its path', (_name, body, expected) => {
    const problems = new ProblemList();
    compileRbac(body, '', problems);
    expect(problems.items.map((p) => `${p.path}: ${p.message}`).join('\n')).toContain(expected);
  });

  it('network RBAC decides on the peer identity and closes nothing it allows', () => {
    const config = compiled('ALLOW', {
      p: policy([{ destinationPort: 3306 }], [principalName(PRODUCTPAGE)]),
    });
    const socket = { remoteAddress: '127.0.0.3', localAddress: '127.0.0.2' };
    const peer = { principal: PRODUCTPAGE, authenticated: true } as Parameters<typeof networkRbacAllows>[3];
    expect(networkRbacAllows([config], socket, 3306, peer)).toBe(true);
    expect(networkRbacAllows([config], socket, 3306, undefined)).toBe(false);
    expect(networkRbacAllows([config], socket, 9080, peer)).toBe(false);
  });
});
