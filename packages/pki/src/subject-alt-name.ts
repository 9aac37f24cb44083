/**
 * The subjectAltName extension (RFC 5280 4.2.1.6): encoding the names Weft
 * issues and decoding what a CSR or certificate asks for.
 */
import { isIPv4, isIPv6 } from 'node:net';
import forge from 'node-forge';
import { type Asn1, children, contextTag, fromDer, primitiveBytes, seq, toBinary, toDer } from './der.ts';

/** The names of a subjectAltName extension, by kind. */
export interface SubjectAltNames {
  uris: string[];
  dnsNames: string[];
  /** Dotted IPv4 or uncompressed lowercase IPv6. */
  ipAddresses: string[];
  emails: string[];
  /** GeneralName kinds Weft does not read (otherName, directoryName, ...), by tag number. */
  otherTags: number[];
}

const TAG = { email: 1, dns: 2, uri: 6, ip: 7 } as const;

/** Builds the DER value of a subjectAltName extension. Throws on an unparseable IP. */
export function encodeSubjectAltNames(
  names: Partial<Pick<SubjectAltNames, 'uris' | 'dnsNames' | 'ipAddresses'>>,
): Buffer {
  const items: Asn1[] = [];
  for (const uri of names.uris ?? []) items.push(contextTag(TAG.uri, false, uri));
  for (const dns of names.dnsNames ?? []) items.push(contextTag(TAG.dns, false, dns));
  for (const ip of names.ipAddresses ?? []) items.push(contextTag(TAG.ip, false, toBinary(ipToBytes(ip))));
  return toDer(seq(items));
}

/** Decodes the DER value of a subjectAltName extension. Throws on malformed DER. */
export function decodeSubjectAltNames(der: Buffer): SubjectAltNames {
  const names: SubjectAltNames = { uris: [], dnsNames: [], ipAddresses: [], emails: [], otherTags: [] };
  const root = fromDer(der);
  if (root.type !== forge.asn1.Type.SEQUENCE || !root.constructed)
    throw new RangeError('subjectAltName is not a SEQUENCE');
  for (const name of children(root)) {
    const bytes = primitiveBytes(name);
    if (name.tagClass !== forge.asn1.Class.CONTEXT_SPECIFIC || bytes === undefined) {
      names.otherTags.push(name.type);
      continue;
    }
    if (name.type === TAG.uri) names.uris.push(bytes.toString('latin1'));
    else if (name.type === TAG.dns) names.dnsNames.push(bytes.toString('latin1'));
    else if (name.type === TAG.email) names.emails.push(bytes.toString('latin1'));
    else if (name.type === TAG.ip) names.ipAddresses.push(bytesToIp(bytes));
    else names.otherTags.push(name.type);
  }
  return names;
}

/** Total number of names of every kind. */
export function countNames(names: SubjectAltNames): number {
  return (
    names.uris.length +
    names.dnsNames.length +
    names.ipAddresses.length +
    names.emails.length +
    names.otherTags.length
  );
}

function ipToBytes(ip: string): Buffer {
  if (isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  if (!isIPv6(ip)) throw new RangeError(`"${ip}" is not an IP address`);
  const [head = '', tail] = ip.split('::') as [string, string | undefined];
  // A trailing dotted quad (`::ffff:10.0.0.1`) stands for the last two groups.
  const parse = (part: string): number[] =>
    part === ''
      ? []
      : part.split(':').flatMap((g) => {
          if (!g.includes('.')) return [Number.parseInt(g, 16)];
          const [a = 0, b = 0, c = 0, d = 0] = g.split('.').map(Number);
          return [(a << 8) | b, (c << 8) | d];
        });
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const groups = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => {
    out.writeUInt16BE(g, i * 2);
  });
  return out;
}

function bytesToIp(bytes: Buffer): string {
  if (bytes.length === 4) return [...bytes].join('.');
  if (bytes.length === 16) {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
    return groups.join(':');
  }
  return `invalid(${bytes.toString('hex')})`;
}

/** Normalises an IP literal to the form `decodeSubjectAltNames` reports. */
export function normalizeIp(ip: string): string {
  return bytesToIp(ipToBytes(ip));
}
