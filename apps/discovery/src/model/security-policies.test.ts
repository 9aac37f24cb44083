import {
  type AuthorizationPolicy,
  type ConfigObject,
  type PeerAuthentication,
  parseConfigYaml,
} from '@weft/config';
import { describe, expect, it } from 'vitest';
import {
  effectiveMtlsMode,
  peerAuthenticationLevels,
  policiesForWorkload,
  usesTargetRef,
} from './security-policies.ts';

function objects(yaml: string): ConfigObject[] {
  const { objects: parsed, problems } = parseConfigYaml(yaml, 'security-policies.test.yaml');
  expect(problems.filter((p) => p.severity === 'error')).toEqual([]);
  return parsed;
}

const doc = (kind: string, namespace: string, name: string, spec: string) =>
  `apiVersion: security.istio.io/v1\nkind: ${kind}\nmetadata: { name: ${name}, namespace: ${namespace} }\nspec: ${spec}`;

const peerAuthentications = (...docs: string[]) =>
  objects(docs.join('\n---\n')).filter((o): o is PeerAuthentication => o.kind === 'PeerAuthentication');

const REVIEWS = { app: 'reviews' };

describe('effectiveMtlsMode (Istio precedence)', () => {
  const mesh = (mode: string) =>
    doc('PeerAuthentication', 'istio-system', 'default', `{ mtls: { mode: ${mode} } }`);
  const ns = (mode: string) => doc('PeerAuthentication', 'shop', 'default', `{ mtls: { mode: ${mode} } }`);
  const workload = (spec: string) =>
    doc('PeerAuthentication', 'shop', 'reviews', `{ selector: { matchLabels: { app: reviews } }, ${spec} }`);

  it.each([
    ['nothing: the fallback', [], undefined, 'PERMISSIVE'],
    ['mesh-wide', [mesh('STRICT')], undefined, 'STRICT'],
    ['namespace beats mesh', [mesh('STRICT'), ns('DISABLE')], undefined, 'DISABLE'],
    ['workload beats namespace', [ns('DISABLE'), workload('mtls: { mode: STRICT }')], undefined, 'STRICT'],
    ['UNSET inherits', [mesh('STRICT'), ns('UNSET')], undefined, 'STRICT'],
    [
      'port level beats workload for its port',
      [workload('mtls: { mode: STRICT }, portLevelMtls: { "8080": { mode: DISABLE } }')],
      8080,
      'DISABLE',
    ],
    [
      'port level does not touch other ports',
      [workload('mtls: { mode: STRICT }, portLevelMtls: { "8080": { mode: DISABLE } }')],
      9080,
      'STRICT',
    ],
    [
      'port level UNSET inherits the workload mode',
      [ns('STRICT'), workload('portLevelMtls: { "8080": { mode: UNSET } }')],
      8080,
      'STRICT',
    ],
    [
      'a root namespace policy with a selector is not mesh-wide',
      [
        doc(
          'PeerAuthentication',
          'istio-system',
          'x',
          '{ selector: { matchLabels: { app: reviews } }, mtls: { mode: STRICT } }',
        ),
      ],
      undefined,
      'PERMISSIVE',
    ],
  ] as [string, string[], number | undefined, string][])('%s', (_name, docs, port, expected) => {
    const levels = peerAuthenticationLevels(peerAuthentications(...docs), 'istio-system', 'shop', REVIEWS);
    expect(effectiveMtlsMode(levels, port, 'PERMISSIVE')).toBe(expected);
  });
});

describe('policiesForWorkload', () => {
  const policies = objects(
    [
      doc('AuthorizationPolicy', 'istio-system', 'mesh', '{}'),
      doc(
        'AuthorizationPolicy',
        'istio-system',
        'mesh-reviews',
        '{ selector: { matchLabels: { app: reviews } } }',
      ),
      doc('AuthorizationPolicy', 'shop', 'ns', '{}'),
      doc('AuthorizationPolicy', 'shop', 'ratings', '{ selector: { matchLabels: { app: ratings } } }'),
      doc('AuthorizationPolicy', 'other', 'ns', '{}'),
      doc(
        'AuthorizationPolicy',
        'shop',
        'gw',
        '{ targetRef: { kind: Gateway, group: gateway.networking.k8s.io, name: gw } }',
      ),
    ].join('\n---\n'),
  ).filter((o): o is AuthorizationPolicy => o.kind === 'AuthorizationPolicy');

  it('selects root-namespace and own-namespace policies whose selector matches, never targetRef ones', () => {
    const names = policiesForWorkload(policies, 'istio-system', 'shop', REVIEWS).map(
      (p) => `${p.metadata.namespace}/${p.metadata.name}`,
    );
    expect(names).toEqual(['istio-system/mesh', 'istio-system/mesh-reviews', 'shop/ns']);
  });

  it('recognises targetRef policies', () => {
    expect(policies.filter((p) => usesTargetRef(p)).length).toBe(1);
  });
});
