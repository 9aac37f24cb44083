/**
 * PKCS#10 certificate signing requests (RFC 2986): creation where the key
 * lives (the private key never leaves the caller) and strict parsing with
 * signature verification for the CA.
 */

import type { KeyObject } from 'node:crypto';
import { createPrivateKey, createPublicKey, verify } from 'node:crypto';
import {
  ASN1_TYPE,
  bitString,
  children,
  contextTag,
  fromDer,
  isContextTag,
  isUniversal,
  OID,
  oid,
  pemBlocks,
  primitiveBytes,
  rawChildren,
  readOid,
  seq,
  set,
  smallInt,
  toDer,
  toPem,
  wrapSequence,
} from './der.ts';
import { extension, type RawExtension, readExtensions } from './extensions.ts';
import { inspectKey, type KeySpec, signatureAlgorithm, signDer, spkiDer } from './key-pair.ts';
import { PkiError, type Problem, type Result } from './problems.ts';
import { decodeSubjectAltNames, encodeSubjectAltNames, type SubjectAltNames } from './subject-alt-name.ts';

export interface CreateCsrOptions {
  /** PKCS#8 (or any Node-readable) PEM private key; used to sign, never copied. */
  privateKeyPem: string;
  /** The SPIFFE ID to ask for: the first URI SAN. */
  spiffeId?: string;
  /** More URI SANs (a CA refuses them for workloads; here for completeness and tests). */
  uris?: string[];
  dnsNames?: string[];
  ipAddresses?: string[];
}

/**
 * Creates a PEM CSR with an empty subject and a subjectAltName extension
 * request, signed with the caller's key (SHA-256, or SHA-384 for P-384).
 * Throws `PkiError('invalid-key')` for a key Weft does not accept.
 */
export function createCsr(options: CreateCsrOptions): string {
  let key: KeyObject;
  try {
    key = createPrivateKey(options.privateKeyPem);
  } catch (cause) {
    throw new PkiError('invalid-key', 'private key is not a readable PEM key', { cause });
  }
  const inspected = inspectKey(key, 'privateKey');
  if ('problem' in inspected) throw new PkiError('invalid-key', inspected.problem.message);
  const uris = [...(options.spiffeId ? [options.spiffeId] : []), ...(options.uris ?? [])];
  const san = encodeSubjectAltNames({ uris, dnsNames: options.dnsNames, ipAddresses: options.ipAddresses });
  const attributes = contextTag(0, true, [
    seq([oid(OID.extensionRequest), set([seq([extension(OID.subjectAltName, false, san)])])]),
  ]);
  const infoDer = wrapSequence([toDer(smallInt(0)), toDer(seq([])), spkiDer(key), toDer(attributes)]);
  const signature = signDer({ key, spec: inspected.spec }, infoDer);
  const csr = wrapSequence([infoDer, toDer(signatureAlgorithm(inspected.spec)), toDer(bitString(signature))]);
  return toPem('CERTIFICATE REQUEST', csr);
}

/** A CSR whose structure and signature were checked. */
export interface ParsedCsr {
  /** The requested public key. */
  publicKey: KeyObject;
  /** The requested key as SubjectPublicKeyInfo DER, exactly as in the CSR. */
  spki: Buffer;
  keySpec: KeySpec;
  /** Names from the subjectAltName extension request. */
  subjectAltNames: SubjectAltNames;
  /** Every requested extension, including subjectAltName. */
  requestedExtensions: RawExtension[];
  der: Buffer;
}

export interface ParseCsrOptions {
  /** Largest PEM accepted, in characters; default 16384. */
  maxLength?: number;
}

const SIGNATURE_OIDS: Record<string, { keyType: 'ec' | 'rsa'; hash: 'sha256' | 'sha384' }> = {
  [OID.sha256WithRsa]: { keyType: 'rsa', hash: 'sha256' },
  [OID.sha384WithRsa]: { keyType: 'rsa', hash: 'sha384' },
  [OID.ecdsaWithSha256]: { keyType: 'ec', hash: 'sha256' },
  [OID.ecdsaWithSha384]: { keyType: 'ec', hash: 'sha384' },
};

const fail = (field: string, message: string): { ok: false; problems: Problem[] } => ({
  ok: false,
  problems: [{ field, message }],
});

/**
 * Parses a PEM CSR and checks it: one `CERTIFICATE REQUEST` block, strict
 * DER, version 1, an accepted key (RSA 2048-4096, EC P-256/P-384), a
 * supported signature algorithm matching the key, a valid self-signature and
 * a decodable subjectAltName. Never throws; returns problems with field paths.
 */
export function parseCsr(pem: string, options: ParseCsrOptions = {}): Result<{ csr: ParsedCsr }> {
  const maxLength = options.maxLength ?? 16_384;
  if (pem.length > maxLength)
    return fail('csr', `CSR is ${pem.length} characters; the limit is ${maxLength}`);
  const blocks = pemBlocks(pem, ['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST']);
  if (blocks.length !== 1) {
    return fail(
      'csr',
      blocks.length === 0 ? 'no PEM "CERTIFICATE REQUEST" block found' : 'more than one CSR',
    );
  }
  const der = blocks[0]!.der;
  let parts: Buffer[];
  let infoParts: ReturnType<typeof children>;
  let root: ReturnType<typeof fromDer>;
  try {
    root = fromDer(der);
    parts = rawChildren(der);
    infoParts = children(children(root)[0]);
  } catch (cause) {
    return fail('csr', `CSR is not valid DER: ${(cause as Error).message}`);
  }
  if (parts.length !== 3 || infoParts.length !== 4)
    return fail('csr', 'CSR does not have the PKCS#10 structure');
  const infoDer = parts[0]!;
  const [version, , spkiNode, attributes] = infoParts;
  if (primitiveBytes(version)?.toString('hex') !== '00')
    return fail('csr.version', 'CSR version must be 1 (0)');

  let publicKey: KeyObject;
  let spki: Buffer;
  try {
    spki = toDer(spkiNode!);
    publicKey = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  } catch (cause) {
    return fail('csr.publicKey', `public key is unreadable: ${(cause as Error).message}`);
  }
  const inspected = inspectKey(publicKey, 'csr.publicKey');
  if ('problem' in inspected) return { ok: false, problems: [inspected.problem] };

  const sigAlgOid = readOid(children(children(root)[1])[0]);
  const sigAlg = sigAlgOid === undefined ? undefined : SIGNATURE_OIDS[sigAlgOid];
  if (!sigAlg)
    return fail('csr.signatureAlgorithm', `signature algorithm ${sigAlgOid ?? '?'} is not supported`);
  if (sigAlg.keyType !== inspected.spec.type) {
    return fail(
      'csr.signatureAlgorithm',
      `signature algorithm ${sigAlgOid} does not match the ${inspected.spec.type} key`,
    );
  }
  const sigBits = children(root)[2];
  const sigBytes = primitiveBytes(sigBits);
  if (!isUniversal(sigBits, ASN1_TYPE.BITSTRING) || !sigBytes || sigBytes[0] !== 0) {
    return fail('csr.signature', 'signature is not a BIT STRING');
  }
  const signatureOk = verify(
    sigAlg.hash,
    infoDer,
    { key: publicKey, dsaEncoding: 'der' },
    sigBytes.subarray(1),
  );
  if (!signatureOk) return fail('csr.signature', 'CSR signature does not verify with its public key');

  if (!isContextTag(attributes, 0)) return fail('csr.attributes', 'attributes are missing');
  let requestedExtensions: RawExtension[] = [];
  let subjectAltNames: SubjectAltNames = {
    uris: [],
    dnsNames: [],
    ipAddresses: [],
    emails: [],
    otherTags: [],
  };
  try {
    for (const attribute of children(attributes)) {
      const [type, values] = children(attribute);
      if (readOid(type) !== OID.extensionRequest) continue;
      requestedExtensions = readExtensions(children(values)[0]!);
    }
    const san = requestedExtensions.find((e) => e.oid === OID.subjectAltName);
    if (san) subjectAltNames = decodeSubjectAltNames(san.value);
  } catch (cause) {
    return fail('csr.extensions', `requested extensions are malformed: ${(cause as Error).message}`);
  }
  return {
    ok: true,
    csr: { publicKey, spki, keySpec: inspected.spec, subjectAltNames, requestedExtensions, der },
  };
}
