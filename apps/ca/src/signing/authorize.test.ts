import type { SubjectAltNames } from '@weft/pki';
import { describe, expect, it } from 'vitest';
import type { CallerIdentity } from '../authn/identity.ts';
import { authorizeNames } from './authorize.ts';

const caller: CallerIdentity = { namespace: 'a', serviceAccount: 'x', method: 'local-token', subject: 's' };
const ID = 'spiffe://cluster.local/ns/a/sa/x';

function names(overrides: Partial<SubjectAltNames>): SubjectAltNames {
  return { uris: [], dnsNames: [], ipAddresses: [], emails: [], otherTags: [], ...overrides };
}

describe('authorizeNames', () => {
  it('allows exactly the proved SPIFFE ID', () => {
    expect(authorizeNames(names({ uris: [ID] }), caller, 'cluster.local')).toEqual({
      ok: true,
      spiffeId: ID,
    });
  });

  it.each([
    {
      name: 'another service account',
      san: names({ uris: ['spiffe://cluster.local/ns/a/sa/y'] }),
      message: /URI:spiffe:\/\/cluster.local\/ns\/a\/sa\/y/,
    },
    {
      name: 'another trust domain',
      san: names({ uris: ['spiffe://other/ns/a/sa/x'] }),
      message: /URI:spiffe:\/\/other/,
    },
    { name: 'an extra URI', san: names({ uris: [ID, 'https://x'] }), message: /URI:https:\/\/x/ },
    { name: 'a DNS name', san: names({ uris: [ID], dnsNames: ['x.example'] }), message: /DNS:x\.example/ },
    { name: 'an IP', san: names({ uris: [ID], ipAddresses: ['10.0.0.1'] }), message: /IP:10\.0\.0\.1/ },
    { name: 'an email', san: names({ uris: [ID], emails: ['a@b'] }), message: /email:a@b/ },
    { name: 'an otherName', san: names({ uris: [ID], otherTags: [0] }), message: /GeneralName\[0\]/ },
    { name: 'no names', san: names({}), message: /as its one URI SAN/ },
    { name: 'the ID twice', san: names({ uris: [ID, ID] }), message: /ask for it once/ },
  ])('refuses $name', ({ san, message }) => {
    const result = authorizeNames(san, caller, 'cluster.local');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toMatch(message);
  });
});
