/**
 * The proxy's in-process SDS: the two secrets mesh TLS contexts name,
 * `default` (the workload certificate chain and private key) and `ROOTCA`
 * (the trust bundle), held in memory with change events. TLS code asks for
 * the current value at every handshake, so a rotated certificate or a new
 * trust bundle applies to new connections only; open ones keep theirs.
 */

/** SDS name of the workload certificate chain and key. */
export const SDS_WORKLOAD_CERT = 'default';
/** SDS name of the trust bundle. */
export const SDS_ROOT_CA = 'ROOTCA';

export interface WorkloadCertificate {
  /** PEM chain, leaf first (the root is not included). */
  readonly certChainPem: string;
  /** PEM PKCS#8 private key (never logged). */
  readonly privateKeyPem: string;
  readonly spiffeId: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** What TLS code reads: the current secrets, and a signal when they change. */
export interface SecretProvider {
  /** The workload certificate, once the CA has signed one. */
  certificate(): WorkloadCertificate | undefined;
  /** The PEM trust bundle (one or more root certificates). */
  trustBundle(): string | undefined;
  /** A number that changes whenever either secret changes (cache key for built contexts). */
  readonly version: number;
  /** Subscribes to changes; returns the unsubscribe function. */
  onChange(listener: (name: typeof SDS_WORKLOAD_CERT | typeof SDS_ROOT_CA) => void): () => void;
}

/** A SecretProvider the agent (or a test) writes to. */
export class SecretStore implements SecretProvider {
  private cert: WorkloadCertificate | undefined;
  private roots: string | undefined;
  private readonly listeners = new Set<(name: typeof SDS_WORKLOAD_CERT | typeof SDS_ROOT_CA) => void>();
  version = 0;

  certificate(): WorkloadCertificate | undefined {
    return this.cert;
  }

  trustBundle(): string | undefined {
    return this.roots;
  }

  setCertificate(cert: WorkloadCertificate): void {
    this.cert = cert;
    this.changed(SDS_WORKLOAD_CERT);
  }

  /** Replaces the trust bundle; an identical bundle is not a change. */
  setTrustBundle(pem: string): void {
    if (pem === this.roots) return;
    this.roots = pem;
    this.changed(SDS_ROOT_CA);
  }

  onChange(listener: (name: typeof SDS_WORKLOAD_CERT | typeof SDS_ROOT_CA) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(name: typeof SDS_WORKLOAD_CERT | typeof SDS_ROOT_CA): void {
    this.version += 1;
    for (const listener of this.listeners) listener(name);
  }
}
