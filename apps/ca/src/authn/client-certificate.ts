/**
 * Renewal with a still-valid client certificate issued by this CA. The TLS
 * layer has already verified the certificate against the CA's trust bundle
 * (and its validity window); here its SPIFFE ID must be a workload identity
 * in this trust domain.
 */
import { X509Certificate } from 'node:crypto';
import { parseWorkloadId, spiffeIdOf } from '@weft/pki';
import type { AuthnResult } from './identity.ts';

/** The identity in a verified peer certificate (DER). */
export function authenticateClientCertificate(der: Buffer, trustDomain: string, now: number): AuthnResult {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(der);
  } catch (error) {
    return {
      ok: false,
      reason: 'invalid',
      detail: `client certificate unreadable: ${(error as Error).message}`,
    };
  }
  if (now > Date.parse(cert.validTo) || now < Date.parse(cert.validFrom)) {
    return { ok: false, reason: 'expired', detail: 'client certificate is outside its validity window' };
  }
  const spiffeId = spiffeIdOf(cert);
  const parsed = spiffeId === undefined ? undefined : parseWorkloadId(spiffeId);
  if (!parsed?.ok || parsed.identity.trustDomain !== trustDomain) {
    return {
      ok: false,
      reason: 'invalid',
      detail: `client certificate has no workload SPIFFE ID in ${trustDomain}`,
    };
  }
  return {
    ok: true,
    identity: {
      namespace: parsed.identity.namespace,
      serviceAccount: parsed.identity.serviceAccount,
      method: 'client-certificate',
      subject: `certificate serial ${cert.serialNumber.toLowerCase()}`,
    },
  };
}
