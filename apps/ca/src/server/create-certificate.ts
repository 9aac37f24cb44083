/**
 * CreateCertificate, independent of gRPC: check the request, authenticate
 * the caller, parse and check the CSR, authorize its names, issue, audit.
 * Every refusal is a `CaRequestError` carrying its gRPC status; the detail of
 * an authentication failure goes to the log, not to the caller.
 */
import { describeKeySpec, formatProblems, parseCsr } from '@weft/pki';
import type { Logger } from '@weft/telemetry';
import { authenticateClientCertificate } from '../authn/client-certificate.ts';
import type { AuthnResult, TokenAuthenticator } from '../authn/identity.ts';
import type { AuditLog } from '../signing/audit-log.ts';
import { authorizeNames } from '../signing/authorize.ts';
import { CaRequestError } from '../signing/ca-errors.ts';
import type { RootOfTrust } from '../signing/root-of-trust.ts';
import type { CaMetrics } from './ca-metrics.ts';

/** Largest CSR accepted, in characters (an RSA 4096 CSR is about 1.7 KB). */
export const MAX_CSR_LENGTH = 16_384;

export interface CreateCertificateInput {
  csr: string;
  /** Requested lifetime in seconds; 0 means the default. */
  validitySeconds: number;
  /** The `authorization` metadata value, if any. */
  authorization?: string;
  /** DER of the TLS client certificate, when the transport verified one. */
  peerCertificate?: Buffer;
}

export interface CreateCertificateDeps {
  root: RootOfTrust;
  tokens: TokenAuthenticator;
  trustDomain: string;
  certTtlSeconds: number;
  maxCertTtlSeconds: number;
  audit: AuditLog;
  metrics: CaMetrics;
  logger: Logger;
  clock: () => number;
}

const AUTHN_MESSAGES: Record<Exclude<AuthnResult, { ok: true }>['reason'], string> = {
  missing: 'authentication failed: no bearer token or client certificate',
  expired: 'authentication failed: credential expired',
  invalid: 'authentication failed',
  unavailable: 'authentication is unavailable; retry later',
};

function bearerToken(authorization: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  return match?.[1];
}

/** Returns the handler; it resolves with the PEM chain (leaf first, root last) or rejects with `CaRequestError`. */
export function createCertificateHandler(
  deps: CreateCertificateDeps,
): (input: CreateCertificateInput) => Promise<string[]> {
  const log = deps.logger.child({ component: 'create-certificate' });

  const authenticate = async (input: CreateCertificateInput): Promise<AuthnResult> => {
    if (input.peerCertificate) {
      const byCert = authenticateClientCertificate(input.peerCertificate, deps.trustDomain, deps.clock());
      if (byCert.ok) return byCert;
      log.debug('client certificate not usable for authentication', { detail: byCert.detail });
    }
    const token = bearerToken(input.authorization);
    if (token === undefined) {
      const detail = input.authorization ? 'authorization metadata is not "Bearer TOKEN"' : 'no credentials';
      return { ok: false, reason: 'missing', detail };
    }
    return deps.tokens.authenticate(token);
  };

  return async (input) => {
    deps.metrics.received();
    try {
      return await handle(input);
    } catch (error) {
      const refusal =
        error instanceof CaRequestError
          ? error
          : new CaRequestError('internal', 'internal error', { cause: error });
      deps.metrics.rejected(refusal.code);
      log.warn('certificate request refused', {
        reason: refusal.code,
        message: refusal.message,
        detail: refusal.detail,
        cause: refusal.code === 'internal' ? refusal.cause : undefined,
      });
      throw refusal;
    }
  };

  async function handle(input: CreateCertificateInput): Promise<string[]> {
    if (typeof input.csr !== 'string' || input.csr.length === 0) {
      throw new CaRequestError('invalid-request', 'csr is empty');
    }
    if (input.csr.length > MAX_CSR_LENGTH) {
      throw new CaRequestError(
        'invalid-request',
        `csr is ${input.csr.length} characters; the limit is ${MAX_CSR_LENGTH}`,
      );
    }
    if (!Number.isFinite(input.validitySeconds) || input.validitySeconds < 0) {
      throw new CaRequestError(
        'invalid-request',
        `validity_duration must be zero or positive, got ${input.validitySeconds}`,
      );
    }
    const authn = await authenticate(input);
    if (!authn.ok) {
      const code = authn.reason === 'unavailable' ? 'authn-unavailable' : 'unauthenticated';
      throw new CaRequestError(code, AUTHN_MESSAGES[authn.reason], { detail: authn.detail });
    }
    const caller = authn.identity;
    const started = performance.now();
    const parsed = parseCsr(input.csr, { maxLength: MAX_CSR_LENGTH });
    if (!parsed.ok) throw new CaRequestError('bad-csr', `invalid CSR: ${formatProblems(parsed.problems)}`);
    const authz = authorizeNames(parsed.csr.subjectAltNames, caller, deps.trustDomain);
    if (!authz.ok) {
      throw new CaRequestError('permission-denied', authz.message, {
        detail: `caller ${caller.method} ${caller.subject}`,
      });
    }
    const ttlSeconds = Math.min(input.validitySeconds || deps.certTtlSeconds, deps.maxCertTtlSeconds);
    const issued = deps.root.signer.issue({
      publicKey: parsed.csr,
      spiffeId: authz.spiffeId,
      ttlSeconds,
    });
    deps.metrics.issued((performance.now() - started) / 1000);
    deps.audit.record({
      serial: issued.serialHex,
      spiffeId: authz.spiffeId,
      notBefore: issued.notBefore,
      notAfter: issued.notAfter,
      keyType: describeKeySpec(parsed.csr.keySpec),
      caller: { method: caller.method, subject: caller.subject },
    });
    return [issued.certPem, ...deps.root.chainTail];
  }
}
