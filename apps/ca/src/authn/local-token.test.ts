import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { SignJWT, UnsecuredJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { createLocalTokenAuthenticator, mintLocalToken } from './local-token.ts';

const NOW = Date.UTC(2026, 0, 1, 12);
const clock = () => NOW;
const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
const authenticator = createLocalTokenAuthenticator(key, clock);

/** A token with the given claims, signed by `signer` (default: the CA's key). */
function tokenWith(
  claims: { iss?: string; aud?: string; sub?: string; exp?: number },
  signer: KeyObject = key,
) {
  const nowSeconds = NOW / 1000;
  return new SignJWT({})
    .setProtectedHeader({ alg: 'ES256' })
    .setIssuer(claims.iss ?? 'weft-ca')
    .setAudience(claims.aud ?? 'istio-ca')
    .setSubject(claims.sub ?? 'system:serviceaccount:a:x')
    .setIssuedAt(nowSeconds)
    .setExpirationTime(claims.exp ?? nowSeconds + 60)
    .sign(signer);
}

describe('local tokens', () => {
  it('accepts a minted token and names the service account', async () => {
    const token = await mintLocalToken(key, { namespace: 'a', serviceAccount: 'x', ttlSeconds: 60, clock });
    expect(await authenticator.authenticate(token)).toEqual({
      ok: true,
      identity: {
        namespace: 'a',
        serviceAccount: 'x',
        method: 'local-token',
        subject: 'system:serviceaccount:a:x',
      },
    });
  });

  it.each([
    { name: 'expired', token: () => tokenWith({ exp: NOW / 1000 - 1 }), reason: 'expired' },
    {
      name: 'forged (another key)',
      token: () => tokenWith({}, generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey),
      reason: 'invalid',
    },
    { name: 'wrong issuer', token: () => tokenWith({ iss: 'someone' }), reason: 'invalid' },
    { name: 'wrong audience', token: () => tokenWith({ aud: 'kubernetes' }), reason: 'invalid' },
    { name: 'not a service account', token: () => tokenWith({ sub: 'admin' }), reason: 'invalid' },
    {
      name: 'alg none',
      token: async () =>
        new UnsecuredJWT({ sub: 'system:serviceaccount:a:x' })
          .setIssuer('weft-ca')
          .setAudience('istio-ca')
          .setExpirationTime(NOW / 1000 + 60)
          .encode(),
      reason: 'invalid',
    },
    { name: 'garbage', token: async () => 'a.b.c', reason: 'invalid' },
  ])('refuses a token that is $name', async ({ token, reason }) => {
    const result = await authenticator.authenticate(await token());
    expect(result).toMatchObject({ ok: false, reason });
  });
});
