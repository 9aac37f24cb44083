import { describe, expect, it } from 'vitest';
import { parseConfigYaml } from '../loading/parse-config-yaml.ts';
import { formatProblem } from './problem.ts';
import { hostMatches, resolveShortHost, validateReferences } from './validate-references.ts';

const rule = (
  name: string,
  host: string,
  subsets: string[],
  namespace = 'default',
) => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  host: "${host}"
  subsets: [${subsets.map((s) => `{name: ${s}}`).join(', ')}]
`;
const service = (
  name: string,
  host: string,
  subset: string,
  extra = '',
) => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ${name}}
spec:
  hosts: [${host}]${extra}
  http:
  - route:
    - destination:
        host: ${host}
        subset: ${subset}
`;

function check(...docs: string[]): string[] {
  const { objects, problems } = parseConfigYaml(docs.join('---\n'), 'all.yaml');
  expect(problems).toEqual([]);
  return validateReferences(objects).map((p) => `${p.severity} ${formatProblem(p)}`);
}

describe('validateReferences', () => {
  it('accepts subsets defined for the host, by short or full name', () => {
    expect(
      check(rule('reviews', 'reviews.default.svc.cluster.local', ['v1']), service('r', 'reviews', 'v1')),
    ).toEqual([]);
  });

  it('accepts a subset defined by a wildcard DestinationRule', () => {
    expect(check(rule('all', '*.default.svc.cluster.local', ['v1']), service('r', 'reviews', 'v1'))).toEqual(
      [],
    );
  });

  it('warns about a subset no DestinationRule defines, at the subset line', () => {
    expect(check(rule('reviews', 'reviews', ['v1']), service('r', 'reviews', 'v3'))).toEqual([
      'warning all.yaml:17 VirtualService default/r: spec.http[0].route[0].destination.subset: subset "v3" of reviews.default.svc.cluster.local is not defined by any DestinationRule',
    ]);
  });

  it('finds lines in kind: List items and across files checked together, after the parse', () => {
    const list = `apiVersion: v1\nkind: List\nitems:\n- ${rule('x', 'x', ['v1']).trimEnd().replaceAll('\n', '\n  ')}\n- ${service('r', 'x', 'v9').trimEnd().replaceAll('\n', '\n  ')}\n`;
    const first = parseConfigYaml(`${rule('y', 'y', [])}---\n${service('s', 'y', 'v1')}`, 'one.yaml');
    const second = parseConfigYaml(list, 'two.yaml');
    expect([...first.problems, ...second.problems]).toEqual([]);
    // Interleaved, so each lookup parses its file again.
    const objects = [second.objects[1], first.objects[1], second.objects[0], first.objects[0]].filter(
      (o) => o !== undefined,
    );
    expect(validateReferences(objects).map(formatProblem)).toEqual([
      'two.yaml:19 VirtualService default/r: spec.http[0].route[0].destination.subset: subset "v9" of x.default.svc.cluster.local is not defined by any DestinationRule',
      'one.yaml:17 VirtualService default/s: spec.http[0].route[0].destination.subset: subset "v1" of y.default.svc.cluster.local is not defined by any DestinationRule',
    ]);
  });

  it('does not resolve a short host against another namespace', () => {
    expect(check(rule('reviews', 'reviews', ['v1'], 'other'), service('r', 'reviews', 'v1'))).toHaveLength(1);
  });

  it('reports a duplicate kind/namespace/name as an error on the later one', () => {
    expect(check(rule('a', 'a', []), rule('a', 'b', []))).toEqual([
      'error all.yaml:10 DestinationRule default/a: metadata.name: duplicate DestinationRule: also defined at all.yaml:1',
    ]);
  });

  it('reports a duplicate once, without also warning that its host has two rules', () => {
    expect(check(rule('a', 'x', []), rule('a', 'x', ['v1']))).toEqual([
      'error all.yaml:10 DestinationRule default/a: metadata.name: duplicate DestinationRule: also defined at all.yaml:1',
    ]);
  });

  it('warns about two DestinationRules for one host', () => {
    expect(check(rule('a', 'x', []), rule('b', 'x', []))).toEqual([
      'warning all.yaml:12 DestinationRule default/b: spec.host: another DestinationRule for x.default.svc.cluster.local in this namespace: a (all.yaml:1)',
    ]);
  });

  it('warns about a gateway that is not defined', () => {
    expect(
      check(
        rule('reviews', 'reviews', ['v1']),
        service('r', 'reviews', 'v1', '\n  gateways: [mesh, ingress]'),
      ),
    ).toEqual([
      'warning all.yaml:13 VirtualService default/r: spec.gateways[1]: gateway default/ingress is not defined',
    ]);
  });
});

describe('host helpers', () => {
  it.each([
    ['reviews', 'default', 'reviews.default.svc.cluster.local'],
    ['reviews.prod.svc.cluster.local', 'default', 'reviews.prod.svc.cluster.local'],
    ['*', 'default', '*'],
  ])('resolves %s in %s', (host, ns, expected) => {
    expect(resolveShortHost(host, ns)).toBe(expected);
  });

  it.each([
    ['*', 'a.b', true],
    ['*.b.com', 'a.b.com', true],
    ['*.b.com', 'b.com', false],
    ['a.com', 'a.com', true],
    ['a.com', 'b.com', false],
  ])('%s matches %s: %s', (pattern, host, expected) => {
    expect(hostMatches(pattern, host)).toBe(expected);
  });
});
