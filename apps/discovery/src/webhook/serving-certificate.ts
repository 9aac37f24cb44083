/**
 * The webhook's HTTPS serving certificate. weft-ca signs only SPIFFE
 * identities a caller proves with a token, never DNS names, so the control
 * plane keeps its own small CA for this one purpose: a root generated at
 * start-up (in memory, never written anywhere) that signs a short-lived leaf
 * for the webhook Service's DNS names. The root goes into the webhook
 * configurations' `caBundle`; the API server trusts nothing else from it.
 */
import { createSelfSignedRoot, generateKeyPair, signCertificate } from '@weft/pki';

export interface ServingCertificateOptions {
  /** DNS SANs, e.g. `weft-discovery.weft-system.svc`. */
  dnsNames: readonly string[];
  /** IP SANs (tests use 127.0.0.1). */
  ipAddresses?: readonly string[];
  /** Leaf lifetime; default one year (the process makes a new one at every start). */
  ttlSeconds?: number;
  clock?: () => number;
}

/** PEM material for an HTTPS server and the CA its clients trust. */
export interface ServingCertificate {
  /** The self-managed root, for `caBundle` / client trust. */
  caPem: string;
  certPem: string;
  keyPem: string;
  notAfter: Date;
}

const ONE_YEAR_SECONDS = 365 * 24 * 3600;

/** Generates a root and a serving leaf (EC P-256) for `dnsNames`. */
export async function createServingCertificate(
  options: ServingCertificateOptions,
): Promise<ServingCertificate> {
  const clock = options.clock ?? Date.now;
  const root = await createSelfSignedRoot({
    subject: { organization: 'Weft', commonName: 'weft-discovery webhook CA' },
    ttlSeconds: 10 * ONE_YEAR_SECONDS,
    clock,
  });
  const leafKey = await generateKeyPair({ type: 'ec' });
  const leaf = signCertificate(
    { certPem: root.certPem, keyPem: root.keyPem },
    {
      publicKey: leafKey.publicKeyPem,
      dnsNames: [...options.dnsNames],
      ipAddresses: [...(options.ipAddresses ?? [])],
      subject: { organization: 'Weft', commonName: options.dnsNames[0] ?? 'weft-discovery' },
      ttlSeconds: options.ttlSeconds ?? ONE_YEAR_SECONDS,
    },
    { clock },
  );
  return {
    caPem: root.certPem,
    certPem: leaf.certPem,
    keyPem: leafKey.privateKeyPem,
    notAfter: leaf.notAfter,
  };
}
