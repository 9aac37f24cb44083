/**
 * Keys: generation with Node's native crypto (never forge's pure-JS RSA),
 * the key types Weft accepts, and the matching X.509 signature algorithms.
 *
 * Accepted: RSA 2048/3072/4096 (sha256WithRSAEncryption) and ECDSA P-256
 * (ecdsa-with-SHA256) / P-384 (ecdsa-with-SHA384).
 */

import type { KeyObject } from 'node:crypto';
import { createPrivateKey, createPublicKey, generateKeyPair as nodeGenerateKeyPair, sign } from 'node:crypto';
import { type Asn1, nullValue, OID, oid, seq } from './der.ts';
import { PkiError, type Problem } from './problems.ts';

export type EcCurve = 'P-256' | 'P-384';
export type RsaBits = 2048 | 3072 | 4096;

/** A key type Weft accepts, for CAs and workloads alike. */
export type KeySpec = { type: 'ec'; curve: EcCurve } | { type: 'rsa'; bits: RsaBits };

/** PEM key pair: PKCS#8 private key and SPKI public key. */
export interface KeyPair {
  spec: KeySpec;
  privateKeyPem: string;
  publicKeyPem: string;
}

/** Options for `generateKeyPair`; defaults: EC P-256, RSA 2048. */
export type KeyPairOptions = { type: 'ec'; curve?: EcCurve } | { type: 'rsa'; bits?: RsaBits };

const NODE_CURVE: Record<EcCurve, string> = { 'P-256': 'prime256v1', 'P-384': 'secp384r1' };
const RSA_BITS: readonly number[] = [2048, 3072, 4096];

/** The full key spec for generation options, filling the defaults. */
export function keySpecOf(options: KeyPairOptions): KeySpec {
  return options.type === 'ec'
    ? { type: 'ec', curve: options.curve ?? 'P-256' }
    : { type: 'rsa', bits: options.bits ?? 2048 };
}

/**
 * Generates a key pair with Node's crypto (off the main thread). The private
 * key stays with the caller: nothing here sends or stores it.
 */
export async function generateKeyPair(options: KeyPairOptions = { type: 'ec' }): Promise<KeyPair> {
  const spec = keySpecOf(options);
  const encoding = {
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  } as const;
  try {
    const pair = await new Promise<{ publicKey: string; privateKey: string }>((resolve, reject) => {
      const done = (err: Error | null, publicKey: string, privateKey: string): void =>
        err ? reject(err) : resolve({ publicKey, privateKey });
      if (spec.type === 'ec')
        nodeGenerateKeyPair('ec', { namedCurve: NODE_CURVE[spec.curve], ...encoding }, done);
      else nodeGenerateKeyPair('rsa', { modulusLength: spec.bits, ...encoding }, done);
    });
    return { spec, privateKeyPem: pair.privateKey, publicKeyPem: pair.publicKey };
  } catch (cause) {
    throw new PkiError('invalid-key', `key generation failed for ${describeKeySpec(spec)}`, { cause });
  }
}

/** `EC P-256`, `RSA 2048`. */
export function describeKeySpec(spec: KeySpec): string {
  return spec.type === 'ec' ? `EC ${spec.curve}` : `RSA ${spec.bits}`;
}

/**
 * The key spec of a public or private key, or a problem when Weft does not
 * accept that key (other curves, RSA sizes, Ed25519, DSA ...). Never throws.
 */
export function inspectKey(key: KeyObject, field = 'publicKey'): { spec: KeySpec } | { problem: Problem } {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'ec') {
    const curve = (Object.keys(NODE_CURVE) as EcCurve[]).find((c) => NODE_CURVE[c] === details.namedCurve);
    if (curve) return { spec: { type: 'ec', curve } };
    return {
      problem: {
        field,
        message: `EC curve ${details.namedCurve ?? 'unknown'} is not accepted (P-256, P-384)`,
      },
    };
  }
  if (key.asymmetricKeyType === 'rsa') {
    const bits = details.modulusLength ?? 0;
    if (RSA_BITS.includes(bits)) return { spec: { type: 'rsa', bits: bits as RsaBits } };
    return { problem: { field, message: `RSA key size ${bits} is not accepted (2048, 3072, 4096)` } };
  }
  return {
    problem: { field, message: `key type ${key.asymmetricKeyType ?? 'unknown'} is not accepted (RSA, EC)` },
  };
}

/** The hash a signer with this key uses. */
export function hashFor(spec: KeySpec): 'sha256' | 'sha384' {
  return spec.type === 'ec' && spec.curve === 'P-384' ? 'sha384' : 'sha256';
}

/** The X.509 signature AlgorithmIdentifier OID for a signer with this key. */
export function signatureOidFor(spec: KeySpec): string {
  if (spec.type === 'rsa') return OID.sha256WithRsa;
  return spec.curve === 'P-384' ? OID.ecdsaWithSha384 : OID.ecdsaWithSha256;
}

/** AlgorithmIdentifier: RSA carries NULL parameters, ECDSA none (RFC 5758 3.2). */
export function signatureAlgorithm(spec: KeySpec): Asn1 {
  return spec.type === 'rsa' ? seq([oid(OID.sha256WithRsa), nullValue()]) : seq([oid(signatureOidFor(spec))]);
}

/** A private key ready to sign, with its spec. */
export interface SigningKey {
  key: KeyObject;
  spec: KeySpec;
}

/** Loads a PEM private key Weft accepts; throws `PkiError('invalid-key')` otherwise. */
export function loadSigningKey(privateKeyPem: string): SigningKey {
  let key: KeyObject;
  try {
    key = createPrivateKey(privateKeyPem);
  } catch (cause) {
    throw new PkiError('invalid-key', 'private key is not a readable PEM key', { cause });
  }
  const inspected = inspectKey(key, 'privateKey');
  if ('problem' in inspected) throw new PkiError('invalid-key', inspected.problem.message);
  return { key, spec: inspected.spec };
}

/**
 * Signs DER bytes natively: RSA PKCS#1 v1.5 or ECDSA with a DER-encoded
 * signature, as X.509 and PKCS#10 expect.
 */
export function signDer(signer: SigningKey, data: Buffer): Buffer {
  return sign(hashFor(signer.spec), data, { key: signer.key, dsaEncoding: 'der' });
}

/** The SPKI DER of a key (public, or the public half of a private key). */
export function spkiDer(key: KeyObject): Buffer {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return pub.export({ type: 'spki', format: 'der' });
}
