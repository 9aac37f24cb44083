/**
 * Properties of the generated authorization, checked with the shipped
 * evaluator over random policies and requests: DENY policies only ever take
 * away, ALLOW policies (once one exists) only ever add, AUDIT never changes a
 * decision; and every generated config encodes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { simulateInbound } from '../../src/translate/index.ts';
import { authorizationPolicyArb, inboundRequestArb } from './authorization-arbitraries.ts';
import { docs, generate, securityHead, serviceYaml, sidecar } from './builders.ts';
import { encodeProblems } from './validators.ts';

const reviews = serviceYaml({ name: 'reviews', workloads: { v1: '127.0.0.4' } });
const jwt = `${securityHead('RequestAuthentication', 'jwt')}
  jwtRules: [{ issuer: https://issuer.example, jwks: '{"keys":[]}' }]`;
const proxy = () =>
  sidecar({ ip: '127.0.0.4', name: 'reviews-v1', labels: { app: 'reviews', version: 'v1' } });

function outcome(policies: string[], request: Parameters<typeof simulateInbound>[1]): string {
  const generated = generate(docs(reviews, jwt, ...policies), proxy());
  expect(encodeProblems(generated.resources)).toEqual([]);
  return simulateInbound(generated.resources, request).outcome;
}

describe('authorization properties', () => {
  it('adding a DENY policy never allows what was denied', () => {
    fc.assert(
      fc.property(
        authorizationPolicyArb('reviews', 'base'),
        authorizationPolicyArb('reviews', 'extra-deny', 'DENY'),
        inboundRequestArb,
        (base, deny, request) => {
          const before = outcome([base], request);
          const after = outcome([base, deny], request);
          if (before !== 'allowed') expect(after).toBe(before);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('adding an ALLOW policy next to another never denies what was allowed', () => {
    fc.assert(
      fc.property(
        authorizationPolicyArb('reviews', 'base', 'ALLOW'),
        authorizationPolicyArb('reviews', 'extra-allow', 'ALLOW'),
        inboundRequestArb,
        (base, allow, request) => {
          if (outcome([base], request) === 'allowed') expect(outcome([base, allow], request)).toBe('allowed');
        },
      ),
      { numRuns: 60 },
    );
  });

  it('an AUDIT policy never changes the outcome', () => {
    fc.assert(
      fc.property(
        authorizationPolicyArb('reviews', 'base'),
        authorizationPolicyArb('reviews', 'audit', 'AUDIT'),
        inboundRequestArb,
        (base, audit, request) => {
          expect(outcome([base, audit], request)).toBe(outcome([base], request));
        },
      ),
      { numRuns: 60 },
    );
  });
});
