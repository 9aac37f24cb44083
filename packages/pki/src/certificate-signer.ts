/**
 * Certificate building and signing. The TBSCertificate is assembled with
 * node-forge's ASN.1 module and signed with Node's native crypto (forge's
 * pure-JS RSA is orders of magnitude slower); RSA and ECDSA CAs and subject
 * keys are both supported.
 *
 * A `CertificateSigner` parses its CA once (issuer name, key identifier,
 * expiry, key) so each issue costs one DER build and one native signature.
 */

import type { KeyObject } from 'node:crypto';
import { createPublicKey, randomBytes, X509Certificate } from 'node:crypto';
import {
  type Asn1,
  bitString,
  contextTag,
  intFromBytes,
  OID,
  oid,
  seq,
  set,
  smallInt,
  time,
  toDer,
  toPem,
  utf8,
  wrapSequence,
} from './der.ts';
import {
  authorityKeyIdentifierValue,
  basicConstraintsValue,
  certificateExtensions,
  certificateSubjectDer,
  extension,
  extKeyUsageValue,
  findSubjectKeyIdentifier,
  type KeyUsageName,
  keyIdentifier,
  keyUsageValue,
  subjectKeyIdentifierValue,
} from './extensions.ts';
import {
  generateKeyPair,
  inspectKey,
  type KeyPair,
  type KeyPairOptions,
  type KeySpec,
  loadSigningKey,
  type SigningKey,
  signatureAlgorithm,
  signDer,
  spkiDer,
} from './key-pair.ts';
import { PkiError } from './problems.ts';
import { encodeSubjectAltNames } from './subject-alt-name.ts';

/** A CA's certificate and private key, PEM. */
export interface CaKeyMaterial {
  certPem: string;
  keyPem: string;
}

/** Distinguished-name attributes Weft writes (CA certificates; leaves keep an empty subject). */
export interface SubjectName {
  organization?: string;
  commonName?: string;
}

/** A public key whose SPKI DER and spec are already known (a `ParsedCsr` is one). */
export interface CheckedPublicKey {
  spki: Buffer;
  keySpec: KeySpec;
}

/** What to certify. */
export interface IssueRequest {
  /**
   * The subject's public key: a KeyObject, a PEM key, or a key already checked
   * by `parseCsr` (`{ spki, keySpec }`, e.g. a `ParsedCsr`), which skips
   * re-encoding it.
   */
  publicKey: KeyObject | string | CheckedPublicKey;
  /** The SPIFFE ID: the first URI SAN. */
  spiffeId?: string;
  uris?: string[];
  dnsNames?: string[];
  ipAddresses?: string[];
  /** Subject DN; empty by default, as SPIFFE leaves are (the SAN is then critical). */
  subject?: SubjectName;
  /** Requested lifetime in seconds, counted from now; capped at the issuer's own expiry. */
  ttlSeconds: number;
  /** Issue a CA certificate (keyCertSign, cA=true) instead of a leaf. */
  isCa?: boolean;
  /** pathLenConstraint for CA certificates. */
  pathLength?: number;
  /** notBefore is this many seconds before now, for clock skew; default 60. */
  backdateSeconds?: number;
}

/** An issued certificate and the facts an audit log wants. */
export interface IssuedCertificate {
  certPem: string;
  der: Buffer;
  /** Lowercase hex serial number. */
  serialHex: string;
  notBefore: Date;
  notAfter: Date;
}

export interface CertificateSigner {
  /** The issuing certificate, PEM. */
  readonly certPem: string;
  /** The issuer's expiry: no certificate it signs outlives it. */
  readonly notAfter: Date;
  /** Builds and signs a certificate. Throws `PkiError` on unusable input (bad IP, bad key). */
  issue(request: IssueRequest): IssuedCertificate;
}

export interface SignerOptions {
  /** Milliseconds since the epoch; default Date.now. */
  clock?: () => number;
}

interface Issuer {
  /** DER of the issuer's subject Name. */
  nameDer: Buffer;
  keyId: Buffer;
  notAfter: Date;
  signer: SigningKey;
  selfSigned: boolean;
}

/**
 * Creates a signer for a CA. Checks that the key matches the certificate and
 * that the certificate is a CA; throws `PkiError('invalid-certificate' |
 * 'invalid-key')` otherwise.
 */
export function createCertificateSigner(ca: CaKeyMaterial, options: SignerOptions = {}): CertificateSigner {
  const signer = loadSigningKey(ca.keyPem);
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(ca.certPem);
  } catch (cause) {
    throw new PkiError('invalid-certificate', 'CA certificate is not a readable PEM certificate', { cause });
  }
  if (!cert.ca)
    throw new PkiError('invalid-certificate', 'CA certificate does not have basicConstraints cA=true');
  if (!cert.checkPrivateKey(signer.key)) {
    throw new PkiError('invalid-key', 'CA private key does not match the CA certificate');
  }
  const issuer: Issuer = {
    nameDer: certificateSubjectDer(cert.raw),
    selfSigned: false,
    keyId:
      findSubjectKeyIdentifier(certificateExtensions(cert.raw)) ?? keyIdentifier(spkiDer(cert.publicKey)),
    notAfter: new Date(cert.validTo),
    signer,
  };
  const clock = options.clock ?? Date.now;
  return {
    certPem: cert.toString(),
    notAfter: issuer.notAfter,
    issue: (request) => issueCertificate(request, issuer, clock()),
  };
}

function nameOf(subject: SubjectName | undefined): Asn1 {
  const rdns: Asn1[] = [];
  if (subject?.organization) rdns.push(set([seq([oid(OID.organizationName), utf8(subject.organization)])]));
  if (subject?.commonName) rdns.push(set([seq([oid(OID.commonName), utf8(subject.commonName)])]));
  return seq(rdns);
}

/** 16 random bytes, positive and minimally encoded (top byte 0x40-0x7f). */
function randomSerial(): Buffer {
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x40;
  return serial;
}

function subjectKey(key: KeyObject | string | CheckedPublicKey): { spki: Buffer; spec: KeySpec } {
  if (typeof key === 'object' && 'spki' in key) return { spki: key.spki, spec: key.keySpec };
  let keyObject: KeyObject;
  try {
    keyObject = typeof key === 'string' ? createPublicKey(key) : key;
  } catch (cause) {
    throw new PkiError('invalid-key', 'subject public key is not a readable PEM key', { cause });
  }
  const inspected = inspectKey(keyObject);
  if ('problem' in inspected) throw new PkiError('invalid-key', inspected.problem.message);
  return { spki: spkiDer(keyObject), spec: inspected.spec };
}

function issueCertificate(request: IssueRequest, issuer: Issuer, nowMs: number): IssuedCertificate {
  const { spki, spec } = subjectKey(request.publicKey);
  if (!Number.isFinite(request.ttlSeconds) || request.ttlSeconds <= 0) {
    throw new PkiError('invalid-argument', `ttlSeconds must be a positive number, got ${request.ttlSeconds}`);
  }
  const subjectKeyId = keyIdentifier(spki);
  const seconds = Math.floor(nowMs / 1000) * 1000;
  const notBefore = new Date(seconds - (request.backdateSeconds ?? 60) * 1000);
  const requestedEnd = new Date(seconds + Math.floor(request.ttlSeconds) * 1000);
  const notAfter = requestedEnd > issuer.notAfter ? issuer.notAfter : requestedEnd;
  const serial = randomSerial();
  const subjectEmpty = !request.subject?.organization && !request.subject?.commonName;

  const isCa = request.isCa ?? false;
  const usages: KeyUsageName[] = isCa
    ? ['digitalSignature', 'keyCertSign', 'cRLSign']
    : ['digitalSignature', spec.type === 'rsa' ? 'keyEncipherment' : 'keyAgreement'];
  const extensions: Asn1[] = [
    extension(OID.keyUsage, true, keyUsageValue(usages)),
    ...(isCa ? [] : [extension(OID.extKeyUsage, false, extKeyUsageValue([OID.serverAuth, OID.clientAuth]))]),
    extension(OID.basicConstraints, true, basicConstraintsValue(isCa, request.pathLength)),
    extension(OID.subjectKeyIdentifier, false, subjectKeyIdentifierValue(subjectKeyId)),
  ];
  if (!issuer.selfSigned) {
    extensions.push(extension(OID.authorityKeyIdentifier, false, authorityKeyIdentifierValue(issuer.keyId)));
  }
  const uris = [...(request.spiffeId ? [request.spiffeId] : []), ...(request.uris ?? [])];
  const dnsNames = request.dnsNames ?? [];
  const ipAddresses = request.ipAddresses ?? [];
  if (uris.length + dnsNames.length + ipAddresses.length > 0) {
    let san: Buffer;
    try {
      san = encodeSubjectAltNames({ uris, dnsNames, ipAddresses });
    } catch (cause) {
      throw new PkiError('invalid-argument', (cause as Error).message, { cause });
    }
    extensions.push(extension(OID.subjectAltName, subjectEmpty, san));
  }

  const algorithmDer = toDer(signatureAlgorithm(issuer.signer.spec));
  const tbsDer = wrapSequence([
    toDer(contextTag(0, true, [smallInt(2)])),
    toDer(intFromBytes(serial)),
    algorithmDer,
    issuer.selfSigned ? toDer(nameOf(request.subject)) : issuer.nameDer,
    toDer(seq([time(notBefore), time(notAfter)])),
    toDer(nameOf(request.subject)),
    spki,
    toDer(contextTag(3, true, [seq(extensions)])),
  ]);
  let signature: Buffer;
  try {
    signature = signDer(issuer.signer, tbsDer);
  } catch (cause) {
    throw new PkiError('signing-failed', 'native signing failed', { cause });
  }
  const der = wrapSequence([tbsDer, algorithmDer, toDer(bitString(signature))]);
  return { certPem: toPem('CERTIFICATE', der), der, serialHex: serial.toString('hex'), notBefore, notAfter };
}

/** One-shot `createCertificateSigner(ca, options).issue(request)`. */
export function signCertificate(
  ca: CaKeyMaterial,
  request: IssueRequest,
  options: SignerOptions = {},
): IssuedCertificate {
  return createCertificateSigner(ca, options).issue(request);
}

export interface RootOptions {
  /** Key of the root; default EC P-256. */
  key?: KeyPairOptions;
  subject: SubjectName;
  /** Lifetime in seconds; default 10 years. */
  ttlSeconds?: number;
  clock?: () => number;
}

/** A CA certificate with its new private key. */
export interface CaCertificate extends IssuedCertificate {
  keyPem: string;
}

const TEN_YEARS_SECONDS = 10 * 365 * 24 * 3600;

/**
 * Generates a key and a self-signed root CA certificate (cA=true,
 * keyCertSign|cRLSign|digitalSignature, backdated one minute).
 */
export async function createSelfSignedRoot(options: RootOptions): Promise<CaCertificate> {
  const keyPair: KeyPair = await generateKeyPair(options.key ?? { type: 'ec' });
  const signer = loadSigningKey(keyPair.privateKeyPem);
  const issuer: Issuer = {
    nameDer: Buffer.alloc(0),
    keyId: Buffer.alloc(0),
    notAfter: new Date(8.64e15),
    signer,
    selfSigned: true,
  };
  const issued = issueCertificate(
    {
      publicKey: keyPair.publicKeyPem,
      subject: options.subject,
      ttlSeconds: options.ttlSeconds ?? TEN_YEARS_SECONDS,
      isCa: true,
    },
    issuer,
    (options.clock ?? Date.now)(),
  );
  return { ...issued, keyPem: keyPair.privateKeyPem };
}

export interface IntermediateOptions {
  /** The issuing CA. */
  ca: CaKeyMaterial;
  key?: KeyPairOptions;
  subject: SubjectName;
  /** Lifetime in seconds; default 1 year, capped at the issuer's expiry. */
  ttlSeconds?: number;
  pathLength?: number;
  clock?: () => number;
}

/** Generates a key and an intermediate CA certificate signed by `ca`. */
export async function createIntermediate(options: IntermediateOptions): Promise<CaCertificate> {
  const keyPair = await generateKeyPair(options.key ?? { type: 'ec' });
  const issued = createCertificateSigner(options.ca, { clock: options.clock }).issue({
    publicKey: keyPair.publicKeyPem,
    subject: options.subject,
    ttlSeconds: options.ttlSeconds ?? 365 * 24 * 3600,
    isCa: true,
    pathLength: options.pathLength,
  });
  return { ...issued, keyPem: keyPair.privateKeyPem };
}
