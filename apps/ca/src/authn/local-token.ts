/**
 * Local-mode tokens: ES256 JWTs signed by a key kept in the state dir
 * (`token-signing-key.pem`, 0600), minted by `weft-ca token` like
 * `kubectl create token`. Claims: iss `weft-ca`, sub
 * `system:serviceaccount:NS:SA`, aud `istio-ca`, iat, exp. Verification is
 * strict: algorithm, issuer, audience, expiry and subject form.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { errors, jwtVerify, SignJWT } from 'jose';
import { ensureDir, KEY_FILE_MODE, readIfExists, writeOnce } from '../signing/state-files.ts';
import {
  type AuthnResult,
  parseServiceAccountUser,
  serviceAccountUser,
  type TokenAuthenticator,
} from './identity.ts';

export const TOKEN_ISSUER = 'weft-ca';
export const TOKEN_AUDIENCE = 'istio-ca';
export const TOKEN_KEY_FILE = 'token-signing-key.pem';
const ALGORITHM = 'ES256';

/** Loads the token signing key from the state dir, creating it on first use. */
export async function loadTokenSigningKey(stateDir: string): Promise<KeyObject> {
  const path = join(stateDir, TOKEN_KEY_FILE);
  let pem = await readIfExists(path);
  if (pem === undefined) {
    await ensureDir(stateDir);
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    pem = await writeOnce(
      path,
      privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      KEY_FILE_MODE,
    );
  }
  return createPrivateKey(pem);
}

export interface MintTokenOptions {
  namespace: string;
  serviceAccount: string;
  ttlSeconds: number;
  /** Milliseconds since the epoch; default Date.now. */
  clock?: () => number;
}

/** Signs a local-mode workload token. */
export async function mintLocalToken(key: KeyObject, options: MintTokenOptions): Promise<string> {
  const nowSeconds = Math.floor((options.clock ?? Date.now)() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
    .setIssuer(TOKEN_ISSUER)
    .setSubject(serviceAccountUser(options.namespace, options.serviceAccount))
    .setAudience(TOKEN_AUDIENCE)
    .setIssuedAt(nowSeconds)
    .setExpirationTime(nowSeconds + options.ttlSeconds)
    .sign(key);
}

/** Verifies local-mode tokens signed by `key`'s public half. */
export function createLocalTokenAuthenticator(
  key: KeyObject,
  clock: () => number = Date.now,
): TokenAuthenticator {
  const publicKey = createPublicKey(key);
  return {
    async authenticate(token: string): Promise<AuthnResult> {
      try {
        const { payload } = await jwtVerify(token, publicKey, {
          algorithms: [ALGORITHM],
          issuer: TOKEN_ISSUER,
          audience: TOKEN_AUDIENCE,
          requiredClaims: ['exp', 'sub'],
          currentDate: new Date(clock()),
          clockTolerance: 0,
        });
        const account = parseServiceAccountUser(payload.sub ?? '');
        if (!account)
          return {
            ok: false,
            reason: 'invalid',
            detail: `token subject "${payload.sub}" is not a service account`,
          };
        return { ok: true, identity: { ...account, method: 'local-token', subject: payload.sub! } };
      } catch (error) {
        if (error instanceof errors.JWTExpired)
          return { ok: false, reason: 'expired', detail: 'token is expired' };
        const code = (error as { code?: string }).code ?? 'unknown';
        return {
          ok: false,
          reason: 'invalid',
          detail: `token rejected (${code}): ${(error as Error).message}`,
        };
      }
    },
  };
}
