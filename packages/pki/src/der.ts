/**
 * A thin layer over node-forge's ASN.1 module: builders for the DER shapes
 * X.509 and PKCS#10 use, and conversions between forge's binary strings and
 * Node Buffers. Certificates and CSRs are assembled from these pieces so both
 * RSA and ECDSA keys work (forge's high-level pki API knows RSA only).
 */
import forge from 'node-forge';

const { asn1 } = forge;
export type Asn1 = forge.asn1.Asn1;

/** OIDs Weft writes or reads. */
export const OID = {
  rsaEncryption: '1.2.840.113549.1.1.1',
  sha256WithRsa: '1.2.840.113549.1.1.11',
  sha384WithRsa: '1.2.840.113549.1.1.12',
  ecPublicKey: '1.2.840.10045.2.1',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  prime256v1: '1.2.840.10045.3.1.7',
  secp384r1: '1.3.132.0.34',
  extensionRequest: '1.2.840.113549.1.9.14',
  subjectAltName: '2.5.29.17',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  basicConstraints: '2.5.29.19',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  commonName: '2.5.4.3',
  organizationName: '2.5.4.10',
} as const;

const U = asn1.Class.UNIVERSAL;
const T = asn1.Type;

export function seq(items: Asn1[]): Asn1 {
  return asn1.create(U, T.SEQUENCE, true, items);
}

export function set(items: Asn1[]): Asn1 {
  return asn1.create(U, T.SET, true, items);
}

export function oid(value: string): Asn1 {
  return asn1.create(U, T.OID, false, asn1.oidToDer(value).getBytes());
}

export function nullValue(): Asn1 {
  return asn1.create(U, T.NULL, false, '');
}

export function bool(value: boolean): Asn1 {
  return asn1.create(U, T.BOOLEAN, false, value ? '\xff' : '\x00');
}

/** A small non-negative INTEGER. */
export function smallInt(value: number): Asn1 {
  return asn1.create(U, T.INTEGER, false, asn1.integerToDer(value).getBytes());
}

/** An INTEGER from big-endian bytes already in minimal two's-complement form. */
export function intFromBytes(bytes: Buffer): Asn1 {
  return asn1.create(U, T.INTEGER, false, toBinary(bytes));
}

export function octetString(bytes: Buffer): Asn1 {
  return asn1.create(U, T.OCTETSTRING, false, toBinary(bytes));
}

/** A BIT STRING with no unused bits. */
export function bitString(bytes: Buffer): Asn1 {
  return asn1.create(U, T.BITSTRING, false, `\x00${toBinary(bytes)}`);
}

export function utf8(value: string): Asn1 {
  return asn1.create(U, T.UTF8, false, forge.util.encodeUtf8(value));
}

/** X.509 Time: UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 4.1.2.5). */
export function time(date: Date): Asn1 {
  return date.getUTCFullYear() < 2050
    ? asn1.create(U, T.UTCTIME, false, asn1.dateToUtcTime(date))
    : asn1.create(U, T.GENERALIZEDTIME, false, asn1.dateToGeneralizedTime(date));
}

/** A context-specific tag `[n]`; `constructed` for EXPLICIT wrappers and constructed IMPLICIT types. */
export function contextTag(n: number, constructed: boolean, value: Asn1[] | string): Asn1 {
  return asn1.create(asn1.Class.CONTEXT_SPECIFIC, n, constructed, value);
}

export function toDer(node: Asn1): Buffer {
  return Buffer.from(asn1.toDer(node).getBytes(), 'binary');
}

/**
 * Parses DER strictly (and rejects trailing bytes); throws on malformed input
 * (callers turn that into a problem). BIT STRINGs stay opaque: forge would
 * otherwise try to parse signatures and keys inside them as ASN.1.
 */
export function fromDer(bytes: Buffer): Asn1 {
  // @types/node-forge types the second parameter as `strict?: boolean`; forge
  // 1.x also takes this options object.
  const options = { strict: true, parseAllBytes: true, decodeBitStrings: false };
  return asn1.fromDer(toBinary(bytes), options as unknown as boolean);
}

export function toBinary(bytes: Buffer): string {
  return bytes.toString('binary');
}

export function fromBinary(bytes: string): Buffer {
  return Buffer.from(bytes, 'binary');
}

/** The children of a constructed node, or an empty list. */
export function children(node: Asn1 | undefined): Asn1[] {
  return node && Array.isArray(node.value) ? node.value : [];
}

/** The primitive value of a node as bytes, or undefined when constructed. */
export function primitiveBytes(node: Asn1 | undefined): Buffer | undefined {
  return node && typeof node.value === 'string' ? fromBinary(node.value) : undefined;
}

export function readOid(node: Asn1 | undefined): string | undefined {
  if (!node || node.tagClass !== U || node.type !== T.OID || typeof node.value !== 'string') return undefined;
  return asn1.derToOid(node.value);
}

export function isContextTag(node: Asn1 | undefined, n: number): boolean {
  return node?.tagClass === asn1.Class.CONTEXT_SPECIFIC && node.type === n;
}

export function isUniversal(node: Asn1 | undefined, type: number): boolean {
  return node?.tagClass === U && node.type === type;
}

export const ASN1_TYPE = T;

/** Wraps DER in PEM armour with 64-column lines. */
export function toPem(label: string, der: Buffer): string {
  const body = der.toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${body}-----END ${label}-----\n`;
}

/** Every PEM block in `text` with the given labels, as DER, in order. */
export function pemBlocks(text: string, labels: readonly string[]): { label: string; der: Buffer }[] {
  const blocks: { label: string; der: Buffer }[] = [];
  const re = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\r\n]*?)-----END \1-----/g;
  for (const match of text.matchAll(re)) {
    const label = match[1] ?? '';
    if (!labels.includes(label)) continue;
    blocks.push({ label, der: Buffer.from((match[2] ?? '').replace(/\s+/g, ''), 'base64') });
  }
  return blocks;
}

/**
 * The raw TLV slices of the children of the constructed DER element that
 * starts `der`. Exact bytes, for signature checks and for copying names and
 * keys unchanged. Throws on truncated input (callers report it as a problem).
 */
export function rawChildren(der: Buffer): Buffer[] {
  const outer = readTlv(der, 0);
  const out: Buffer[] = [];
  let offset = outer.contentStart;
  while (offset < outer.end) {
    const child = readTlv(der, offset);
    out.push(der.subarray(offset, child.end));
    offset = child.end;
  }
  if (offset !== outer.end) throw new RangeError('DER child overruns its parent');
  return out;
}

/** The content bytes of one DER element (after its tag and length). */
export function rawContent(der: Buffer): Buffer {
  const tlv = readTlv(der, 0);
  return der.subarray(tlv.contentStart, tlv.end);
}

function readTlv(der: Buffer, offset: number): { contentStart: number; end: number } {
  if (offset + 2 > der.length) throw new RangeError('DER element is truncated');
  if ((der[offset]! & 0x1f) === 0x1f) throw new RangeError('DER high tag numbers are not supported');
  let pos = offset + 1;
  const first = der[pos++]!;
  let length = first;
  if (first & 0x80) {
    const count = first & 0x7f;
    if (count === 0 || count > 4) throw new RangeError('DER length is indefinite or too large');
    length = 0;
    for (let i = 0; i < count; i++) {
      if (pos >= der.length) throw new RangeError('DER length is truncated');
      length = length * 256 + der[pos++]!;
    }
  }
  const end = pos + length;
  if (end > der.length) throw new RangeError('DER element is truncated');
  return { contentStart: pos, end };
}

/** Wraps already-encoded DER elements in a SEQUENCE, without re-parsing them. */
export function wrapSequence(parts: readonly Buffer[]): Buffer {
  const content = Buffer.concat(parts);
  const length = content.length;
  let header: Buffer;
  if (length < 0x80) header = Buffer.from([0x30, length]);
  else if (length < 0x100) header = Buffer.from([0x30, 0x81, length]);
  else if (length < 0x10000) header = Buffer.from([0x30, 0x82, length >> 8, length & 0xff]);
  else header = Buffer.from([0x30, 0x83, length >> 16, (length >> 8) & 0xff, length & 0xff]);
  return Buffer.concat([header, content]);
}
