import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatProblem } from '../validation/problem.ts';
import { parseConfigYaml, parseConfigYamlDetailed } from './parse-config-yaml.ts';

const destinationRule = (name: string, extra = '') => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: ${name}
spec:
  host: ${name}${extra}
`;

const lines = (text: string, file = 'f.yaml') => parseConfigYaml(text, file).problems.map(formatProblem);

describe('parseConfigYaml', () => {
  it('reads every document and records file and line of each object', () => {
    const text = `# leading comment\n${destinationRule('a')}---\n${destinationRule('b')}`;
    const { objects, problems } = parseConfigYaml(text, 'rules.yaml');
    expect(problems).toEqual([]);
    expect(objects.map((o) => [o.metadata.name, o.metadata.namespace, o.source])).toEqual([
      ['a', 'default', { file: 'rules.yaml', line: 2 }],
      ['b', 'default', { file: 'rules.yaml', line: 9 }],
    ]);
  });

  it('keeps the good objects beside a bad one and points at the bad field', () => {
    const text = `${destinationRule('a')}---\n${destinationRule('b', '\n  trafficPolicy:\n    tls:\n      mode: STRICT')}---\n${destinationRule('c')}`;
    const { objects } = parseConfigYaml(text, 'rules.yaml');
    expect(objects.map((o) => o.metadata.name)).toEqual(['a', 'c']);
    expect(lines(text, 'rules.yaml')).toEqual([
      'rules.yaml:16 DestinationRule default/b: spec.trafficPolicy.tls.mode: unknown value "STRICT"; expected one of DISABLE, SIMPLE, MUTUAL, ISTIO_MUTUAL',
    ]);
  });

  it.each([
    [
      'a YAML syntax error',
      'kind: [\n',
      'f.yaml:2: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ],
    ['a duplicate key', 'kind: A\nkind: B\n', 'f.yaml:2: YAML syntax error: Map keys must be unique'],
    [
      'a scalar document',
      'hello\n',
      'f.yaml:1: expected a YAML mapping with apiVersion, kind, metadata and spec',
    ],
    [
      'a missing kind',
      'apiVersion: networking.istio.io/v1\nmetadata: {name: a}\n',
      'f.yaml:1: kind: required',
    ],
    [
      'an unsupported Istio kind',
      'apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata: {name: a}\n',
      'f.yaml:2 EnvoyFilter default/a: kind: EnvoyFilter (networking.istio.io/v1alpha3) is not supported by Weft; supported kinds: VirtualService, DestinationRule, Gateway, ServiceEntry, WorkloadEntry, Sidecar, PeerAuthentication, AuthorizationPolicy, RequestAuthentication',
    ],
    [
      'an unsupported version',
      'apiVersion: networking.istio.io/v2\nkind: Gateway\nmetadata: {name: a}\nspec: {servers: [{port: {number: 80, protocol: HTTP, name: http}, hosts: ["*"]}]}\n',
      'f.yaml:1 Gateway default/a: apiVersion: unsupported version "v2" of networking.istio.io; accepted: v1alpha3, v1beta1, v1',
    ],
    [
      'a kind in the wrong group',
      'apiVersion: security.istio.io/v1\nkind: Gateway\nmetadata: {name: a}\nspec: {servers: [{port: {number: 80, protocol: HTTP, name: http}, hosts: ["*"]}]}\n',
      'f.yaml:1 Gateway default/a: apiVersion: Gateway belongs to networking.istio.io, not "security.istio.io"',
    ],
    [
      'a missing name',
      'apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {namespace: x}\n',
      'f.yaml:3 PeerAuthentication: metadata.name: required',
    ],
    [
      'an invalid name',
      'apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: Bad_Name}\n',
      `f.yaml:3 PeerAuthentication default/Bad_Name: metadata.name: "Bad_Name" must be a DNS-1123 subdomain (lowercase letters, digits, '-' and '.')`,
    ],
    [
      'an unknown top-level field',
      'apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: a}\nspecs: {}\n',
      'f.yaml:4 PeerAuthentication default/a: specs: unknown field',
    ],
  ])('reports %s', (_name, text, expected) => {
    expect(lines(text)).toEqual([expected]);
  });

  it('warns about resources of other API groups and skips them', () => {
    const text = `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n---\n${destinationRule('a')}`;
    const { objects, problems } = parseConfigYaml(text, 'f.yaml');
    expect(objects).toHaveLength(1);
    expect(problems.map((p) => [p.severity, formatProblem(p)])).toEqual([
      [
        'warning',
        'f.yaml:1 Deployment default/web: not an Istio resource Weft reads (apps/v1 Deployment); skipped',
      ],
    ]);
  });

  it.each([
    [
      'the Kubernetes Gateway API',
      'apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: gw}\nspec: {gatewayClassName: istio}\n',
      'f.yaml:1 Gateway default/gw: not an Istio resource Weft reads (gateway.networking.k8s.io/v1 Gateway); skipped',
    ],
    [
      'install configuration',
      'apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nspec: {}\n',
      'f.yaml:1 IstioOperator: not an Istio resource Weft reads (install.istio.io/v1alpha1 IstioOperator); skipped',
    ],
    [
      'YAML that is not a resource (values, charts)',
      'replicas: 3\nimage: x\n',
      'f.yaml:1: not a Kubernetes resource (no apiVersion or kind); skipped',
    ],
  ])('skips %s with a warning', (_name, text, expected) => {
    const { objects, problems } = parseConfigYaml(text, 'f.yaml');
    expect(objects).toEqual([]);
    expect(problems.map((p) => `${p.severity} ${formatProblem(p)}`)).toEqual([`warning ${expected}`]);
  });

  it('rejects an unsupported kind of an Istio config group as an error', () => {
    expect(
      lines('apiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata: {name: t}\nspec: {}\n'),
    ).toEqual([
      'f.yaml:2 Telemetry default/t: kind: Telemetry (telemetry.istio.io/v1) is not supported by Weft; supported kinds: VirtualService, DestinationRule, Gateway, ServiceEntry, WorkloadEntry, Sidecar, PeerAuthentication, AuthorizationPolicy, RequestAuthentication',
    ]);
  });

  it('reports the first YAML error of a document and counts the rest', () => {
    expect(lines('{{- if .x }}\nkind: A\n{{- end }}\n')).toEqual([
      'f.yaml:1: YAML syntax error: Block collections are not allowed within flow collections (and 10 more in this document)',
    ]);
  });

  it('expands kind: List as kubectl writes it', () => {
    const text = `apiVersion: v1\nkind: List\nitems:\n- apiVersion: networking.istio.io/v1\n  kind: DestinationRule\n  metadata: {name: a, namespace: x}\n  spec: {host: a}\n`;
    const { objects, problems } = parseConfigYaml(text, 'f.yaml');
    expect(problems).toEqual([]);
    expect(objects.map((o) => [o.metadata.namespace, o.metadata.name, o.source?.line])).toEqual([
      ['x', 'a', 4],
    ]);
  });

  it('accepts metadata that kubectl adds and ignores status', () => {
    const text = `${destinationRule('a')}  subsets: []\nstatus: {observedGeneration: 1}\n`.replace(
      'metadata:\n',
      'metadata:\n  uid: 123\n  creationTimestamp: "2024-01-01T00:00:00Z"\n  generation: 3\n  resourceVersion: "42"\n',
    );
    const { objects, problems } = parseConfigYaml(text, 'f.yaml');
    expect(problems).toEqual([]);
    expect(objects[0]?.metadata).toEqual({
      name: 'a',
      namespace: 'default',
      resourceVersion: '42',
      generation: 3,
    });
  });

  it('refuses alias bombs instead of expanding them', () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++)
      bomb.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(',')}]`,
      );
    const result = parseConfigYamlDetailed(bomb.join('\n'), 'bomb.yaml');
    expect(result.objects).toEqual([]);
    expect(result.problems[0]?.message).toMatch(/^cannot read YAML document: /);
  });

  it('reports identities of invalid objects and whether the file was read completely', () => {
    const text = `${destinationRule('a', '\n  subsets: 3')}---\nkind: [\n`;
    const result = parseConfigYamlDetailed(text, 'f.yaml');
    expect(result.rejected).toEqual([{ kind: 'DestinationRule', namespace: 'default', name: 'a' }]);
    expect(result.incomplete).toBe(true);
  });
});

describe('parseConfigYaml on arbitrary input', () => {
  const valid = `${destinationRule('reviews', '\n  subsets:\n  - name: v1\n    labels: {version: v1}')}---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: r}\nspec:\n  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews, subset: v1}\n`;

  it('never throws on random text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (text) => {
        const { problems, objects } = parseConfigYaml(text, 'r.yaml');
        expect(Array.isArray(problems) && Array.isArray(objects)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('never throws on truncated or corrupted valid YAML', () => {
    fc.assert(
      fc.property(
        fc.nat(valid.length),
        fc.string({ maxLength: 5 }),
        fc.nat(valid.length),
        (cut, noise, at) => {
          const truncated = valid.slice(0, cut);
          const corrupted = valid.slice(0, at) + noise + valid.slice(at);
          for (const text of [truncated, corrupted]) {
            const { problems, objects } = parseConfigYaml(text, 'r.yaml');
            for (const object of objects)
              expect(['DestinationRule', 'VirtualService']).toContain(object.kind);
            for (const problem of problems) expect(formatProblem(problem)).toMatch(/^r\.yaml:\d+/);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('never throws on random YAML-like structures', () => {
    const value = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        fc.string(),
        fc.integer(),
        fc.double(),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie('node'), { maxLength: 4 }),
        fc.dictionary(
          fc.constantFrom(
            'apiVersion',
            'kind',
            'metadata',
            'spec',
            'hosts',
            'http',
            'route',
            'name',
            '__proto__',
            'x',
          ),
          tie('node'),
          { maxKeys: 5 },
        ),
      ),
    })).node;
    fc.assert(
      fc.property(
        value,
        fc.constantFrom(
          ...[
            'VirtualService',
            'DestinationRule',
            'Gateway',
            'ServiceEntry',
            'Sidecar',
            'AuthorizationPolicy',
          ],
        ),
        (spec, kind) => {
          const group = kind === 'AuthorizationPolicy' ? 'security' : 'networking';
          const text = JSON.stringify({
            apiVersion: `${group}.istio.io/v1`,
            kind,
            metadata: { name: 'x' },
            spec,
          });
          const { problems, objects } = parseConfigYaml(text, 'j.yaml');
          expect(objects.length + problems.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
