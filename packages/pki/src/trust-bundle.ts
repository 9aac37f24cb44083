/**
 * Certificates as a workload or CA sees them: PEM splitting, trust bundles
 * (deduplicated sets of roots), chain building and chain verification, and
 * reading the SPIFFE ID out of an X.509-SVID.
 */
import { X509Certificate } from 'node:crypto';
import { OID, pemBlocks, toPem } from './der.ts';
import { certificateExtensions } from './extensions.ts';
import type { Problem, Result } from './problems.ts';
import { decodeSubjectAltNames } from './subject-alt-name.ts';

/**
 * Parses every `CERTIFICATE` block in `text`. Never throws: a block that is
 * not a certificate becomes a problem at `certificates[i]`.
 */
export function parseCertificates(text: string): Result<{ certificates: X509Certificate[] }> {
  const blocks = pemBlocks(text, ['CERTIFICATE']);
  if (blocks.length === 0)
    return { ok: false, problems: [{ field: 'certificates', message: 'no PEM certificate found' }] };
  const certificates: X509Certificate[] = [];
  const problems: Problem[] = [];
  blocks.forEach((block, i) => {
    try {
      certificates.push(new X509Certificate(block.der));
    } catch (cause) {
      problems.push({
        field: `certificates[${i}]`,
        message: `not a readable certificate: ${(cause as Error).message}`,
      });
    }
  });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, certificates };
}

/** Splits PEM text into one normalised PEM string per certificate, in order (unreadable blocks included). */
export function splitPemCertificates(text: string): string[] {
  return pemBlocks(text, ['CERTIFICATE']).map((b) => toPem('CERTIFICATE', b.der));
}

/** A set of trusted roots, deduplicated by SHA-256 fingerprint, in first-seen order. */
export interface TrustBundle {
  readonly certificates: readonly X509Certificate[];
  /** SHA-256 fingerprints (`AA:BB:...`), in order. */
  readonly fingerprints: readonly string[];
  /** Whether this exact certificate is in the bundle. */
  contains(cert: X509Certificate): boolean;
  /** The bundle as concatenated PEM. */
  toPem(): string;
}

/**
 * Builds a trust bundle from PEM texts (each may hold several certificates).
 * Every certificate must be a CA. Never throws; returns problems.
 */
export function createTrustBundle(pems: readonly string[]): Result<{ bundle: TrustBundle }> {
  const seen = new Map<string, X509Certificate>();
  const problems: Problem[] = [];
  pems.forEach((pem, i) => {
    const parsed = parseCertificates(pem);
    if (!parsed.ok) {
      problems.push(...parsed.problems.map((p) => ({ ...p, field: `bundle[${i}].${p.field}` })));
      return;
    }
    parsed.certificates.forEach((cert, j) => {
      if (!cert.ca)
        problems.push({ field: `bundle[${i}].certificates[${j}]`, message: 'trust anchor is not a CA' });
      else if (!seen.has(cert.fingerprint256)) seen.set(cert.fingerprint256, cert);
    });
  });
  if (problems.length > 0) return { ok: false, problems };
  const certificates = [...seen.values()];
  return {
    ok: true,
    bundle: {
      certificates,
      fingerprints: [...seen.keys()],
      contains: (cert) => seen.has(cert.fingerprint256),
      toPem: () => certificates.map((c) => c.toString()).join(''),
    },
  };
}

/**
 * Orders a response chain: the leaf, then the issuer chain without
 * duplicates, with `rootPem` last (appended if the issuer chain lacks it).
 */
export function buildChain(leafPem: string, issuerChainPems: readonly string[], rootPem: string): string[] {
  const root = new X509Certificate(rootPem);
  const chain = [new X509Certificate(leafPem)];
  for (const pem of issuerChainPems.flatMap(splitPemCertificates)) {
    const cert = new X509Certificate(pem);
    if (
      !chain.some((c) => c.fingerprint256 === cert.fingerprint256) &&
      cert.fingerprint256 !== root.fingerprint256
    ) {
      chain.push(cert);
    }
  }
  chain.push(root);
  return chain.map((c) => c.toString());
}

export interface VerifyChainOptions {
  /** PEM certificates, leaf first; the root may or may not be included. */
  chain: readonly string[];
  roots: TrustBundle;
  /** Milliseconds since the epoch. */
  now: number;
}

/**
 * Verifies that `chain[0]` chains to a root of `roots`: every link's issuer
 * name and signature match, every issuer is a CA, and every certificate is
 * valid at `now`. Returns the leaf's SPIFFE ID when it has one. Never throws.
 */
export function verifyChain(options: VerifyChainOptions): Result<{ spiffeId?: string }> {
  const parsed = parseCertificates(options.chain.join('\n'));
  if (!parsed.ok) return parsed;
  const certs = parsed.certificates;
  const problems: Problem[] = [];
  const now = options.now;
  certs.forEach((cert, i) => {
    if (now < Date.parse(cert.validFrom)) problems.push({ field: `chain[${i}]`, message: 'not yet valid' });
    if (now > Date.parse(cert.validTo)) problems.push({ field: `chain[${i}]`, message: 'expired' });
  });
  for (let i = 0; i + 1 < certs.length; i++) {
    const cert = certs[i]!;
    const issuer = certs[i + 1]!;
    if (!issuer.ca) problems.push({ field: `chain[${i + 1}]`, message: 'issuer is not a CA' });
    if (!cert.checkIssued(issuer) || !cert.verify(issuer.publicKey)) {
      problems.push({ field: `chain[${i}]`, message: 'not signed by the next certificate in the chain' });
    }
  }
  const last = certs[certs.length - 1]!;
  const anchored =
    options.roots.contains(last) ||
    options.roots.certificates.some((root) => last.checkIssued(root) && last.verify(root.publicKey));
  if (!anchored)
    problems.push({ field: `chain[${certs.length - 1}]`, message: 'does not chain to a trusted root' });
  else {
    const root = options.roots.contains(last)
      ? last
      : options.roots.certificates.find((r) => last.checkIssued(r));
    if (root && (now > Date.parse(root.validTo) || now < Date.parse(root.validFrom))) {
      problems.push({ field: 'roots', message: 'trusted root is not valid now' });
    }
  }
  if (problems.length > 0) return { ok: false, problems };
  const spiffeId = spiffeIdOf(certs[0]!);
  return spiffeId === undefined ? { ok: true } : { ok: true, spiffeId };
}

/**
 * The SPIFFE ID of an X.509-SVID: its single `spiffe://` URI SAN, read from
 * the DER (not from Node's display string). Undefined when the certificate has
 * none, or more than one URI SAN (SPIFFE forbids that).
 */
export function spiffeIdOf(cert: X509Certificate | string | Buffer): string | undefined {
  const x509 = cert instanceof X509Certificate ? cert : new X509Certificate(cert);
  try {
    const san = certificateExtensions(x509.raw).find((e) => e.oid === OID.subjectAltName);
    if (!san) return undefined;
    const uris = decodeSubjectAltNames(san.value).uris;
    return uris.length === 1 && uris[0]!.startsWith('spiffe://') ? uris[0] : undefined;
  } catch {
    return undefined;
  }
}
