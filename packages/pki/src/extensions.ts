/**
 * X.509 v3 extensions (RFC 5280 4.2): the ones Weft writes into certificates,
 * and a reader for the `Extensions` SEQUENCE of CSRs and certificates.
 */
import { createHash } from 'node:crypto';
import forge from 'node-forge';
import {
  type Asn1,
  bool,
  children,
  contextTag,
  fromDer,
  OID,
  octetString,
  oid,
  primitiveBytes,
  rawChildren,
  rawContent,
  readOid,
  seq,
  smallInt,
  toBinary,
  toDer,
} from './der.ts';

/** One extension as found: OID, criticality and the DER of its value. */
export interface RawExtension {
  oid: string;
  critical: boolean;
  value: Buffer;
}

export function extension(id: string, critical: boolean, value: Buffer): Asn1 {
  return seq(critical ? [oid(id), bool(true), octetString(value)] : [oid(id), octetString(value)]);
}

/** KeyUsage bit positions (RFC 5280 4.2.1.3). */
export const KEY_USAGE = {
  digitalSignature: 0,
  keyEncipherment: 2,
  keyAgreement: 4,
  keyCertSign: 5,
  cRLSign: 6,
} as const;

export type KeyUsageName = keyof typeof KEY_USAGE;

/** DER of a KeyUsage named BIT STRING: trailing zero bits dropped, as DER requires. */
export function keyUsageValue(usages: readonly KeyUsageName[]): Buffer {
  const positions = usages.map((u) => KEY_USAGE[u]);
  const highest = Math.max(...positions);
  const byteCount = Math.floor(highest / 8) + 1;
  const bytes = Buffer.alloc(byteCount);
  for (const p of positions) bytes[p >> 3]! |= 0x80 >> (p & 7);
  const unused = byteCount * 8 - 1 - highest;
  const node = forge.asn1.create(
    forge.asn1.Class.UNIVERSAL,
    forge.asn1.Type.BITSTRING,
    false,
    String.fromCharCode(unused) + toBinary(bytes),
  );
  return toDer(node);
}

/** DER of BasicConstraints; `cA` FALSE is omitted as DER requires for defaults. */
export function basicConstraintsValue(isCa: boolean, pathLength?: number): Buffer {
  const items: Asn1[] = [];
  if (isCa) {
    items.push(bool(true));
    if (pathLength !== undefined) items.push(smallInt(pathLength));
  }
  return toDer(seq(items));
}

export function extKeyUsageValue(oids: readonly string[]): Buffer {
  return toDer(seq(oids.map(oid)));
}

/** Key identifier per RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits. */
export function keyIdentifier(spki: Buffer): Buffer {
  const bits = rawContent(rawChildren(spki)[1] ?? Buffer.alloc(0)).subarray(1);
  return createHash('sha1').update(bits).digest();
}

export function subjectKeyIdentifierValue(keyId: Buffer): Buffer {
  return toDer(octetString(keyId));
}

export function authorityKeyIdentifierValue(keyId: Buffer): Buffer {
  return toDer(seq([contextTag(0, false, toBinary(keyId))]));
}

/** Reads `Extensions ::= SEQUENCE OF Extension`. Throws on a malformed entry. */
export function readExtensions(node: Asn1): RawExtension[] {
  return children(node).map((ext) => {
    const parts = children(ext);
    const id = readOid(parts[0]);
    const hasCritical = parts.length === 3;
    const criticalByte = hasCritical ? primitiveBytes(parts[1]) : undefined;
    const value = primitiveBytes(parts[hasCritical ? 2 : 1]);
    if (id === undefined || value === undefined || parts.length < 2 || parts.length > 3) {
      throw new RangeError('malformed Extension');
    }
    return { oid: id, critical: criticalByte !== undefined && criticalByte[0] !== 0, value };
  });
}

/** The subjectKeyIdentifier of a certificate's extensions, if present. */
export function findSubjectKeyIdentifier(extensions: readonly RawExtension[]): Buffer | undefined {
  const ski = extensions.find((e) => e.oid === OID.subjectKeyIdentifier);
  return ski ? rawContent(ski.value) : undefined;
}

/**
 * The extensions of a DER certificate (the `[3]` field of its
 * TBSCertificate); empty when it has none. Throws on malformed DER.
 */
export function certificateExtensions(certDer: Buffer): RawExtension[] {
  const tbs = rawChildren(rawChildren(certDer)[0]!);
  const tagged = tbs.find((part) => part[0] === 0xa3);
  if (!tagged) return [];
  return readExtensions(children(fromDer(tagged))[0]!);
}

/** The DER of a certificate's subject Name, unchanged. */
export function certificateSubjectDer(certDer: Buffer): Buffer {
  const tbs = rawChildren(rawChildren(certDer)[0]!);
  const hasVersion = tbs[0]![0] === 0xa0;
  return tbs[hasVersion ? 5 : 4]!;
}
