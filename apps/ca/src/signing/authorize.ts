/**
 * Authorization: a CSR may ask for exactly one name, the SPIFFE ID its
 * caller proved. Any other URI, any DNS name, IP or e-mail address, or any
 * other kind of name is refused.
 */
import { formatSpiffeId, type SubjectAltNames } from '@weft/pki';
import type { CallerIdentity } from '../authn/identity.ts';

export type AuthorizeResult = { ok: true; spiffeId: string } | { ok: false; message: string };

/** Checks the CSR's names against the caller's proved identity. Never throws. */
export function authorizeNames(
  names: SubjectAltNames,
  caller: CallerIdentity,
  trustDomain: string,
): AuthorizeResult {
  const spiffeId = formatSpiffeId({
    trustDomain,
    namespace: caller.namespace,
    serviceAccount: caller.serviceAccount,
  });
  const unproved = [
    ...names.uris.filter((uri) => uri !== spiffeId).map((uri) => `URI:${uri}`),
    ...names.dnsNames.map((dns) => `DNS:${dns}`),
    ...names.ipAddresses.map((ip) => `IP:${ip}`),
    ...names.emails.map((email) => `email:${email}`),
    ...names.otherTags.map((tag) => `GeneralName[${tag}]`),
  ];
  if (unproved.length > 0) {
    return {
      ok: false,
      message: `CSR asks for names the caller did not prove (caller is ${spiffeId}): ${unproved.join(', ')}`,
    };
  }
  if (names.uris.length !== 1) {
    return {
      ok: false,
      message:
        names.uris.length === 0
          ? `CSR must ask for ${spiffeId} as its one URI SAN`
          : `CSR repeats ${spiffeId}; ask for it once`,
    };
  }
  return { ok: true, spiffeId };
}
