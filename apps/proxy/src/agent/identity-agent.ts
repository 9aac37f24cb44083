/**
 * The identity agent: the proxy's workload certificate, in process.
 *
 * At start it generates a key (the key never leaves this process), builds a
 * CSR for `spiffe://TD/ns/NS/sa/SA`, and asks weft-ca (Istio's
 * `CreateCertificate`) to sign it with the bearer token read from
 * `tokenFile` at every request (projected tokens rotate). The signed chain,
 * the key and the trust bundle (`caRootFile`, watched for changes) go to the
 * SecretStore, which serves the SDS names `default` and `ROOTCA`.
 *
 * Renewal: a fresh key and certificate after half the lifetime, with jitter
 * (`createRotationClock`). When the CA fails, the agent keeps the valid
 * certificate and retries with exponential backoff. Tokens and keys are
 * never logged.
 */
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import {
  CaClientError,
  createCaClient,
  createCsr,
  createRotationClock,
  formatSpiffeId,
  generateKeyPair,
  spiffeIdOf,
} from '@weft/pki';
import type { Logger } from '@weft/telemetry';
import { SecretStore } from './secret-store.ts';

type Timer = ReturnType<typeof setTimeout>;

export interface IdentityAgentOptions {
  /** weft-ca's gRPC address `host:port`. */
  readonly caAddress: string;
  /** File holding the bearer token; re-read before every CA request. */
  readonly tokenFile: string;
  /** PEM trust bundle: verifies the CA's serving certificate and becomes `ROOTCA`. */
  readonly caRootFile: string;
  readonly trustDomain: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  /** Requested certificate lifetime in seconds (the CA may cap it). */
  readonly certTtlSeconds: number;
  readonly logger: Logger;
  /** TLS server name of the CA, when it differs from the address host. */
  readonly caServerName?: string;
  /** Milliseconds since the epoch (default Date.now). */
  readonly now?: () => number;
  readonly random?: () => number;
  readonly setTimer?: (fn: () => void, ms: number) => Timer;
  readonly clearTimer?: (timer: Timer) => void;
  /** First retry delay after a CA failure (default 1 s), doubled up to `maxBackoffMs` (default 30 s). */
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** How often the trust bundle file is checked for changes (default 1 s). */
  readonly rootPollMs?: number;
}

/** Raised for agent failures that leave the proxy without a new certificate. */
export class IdentityAgentError extends Error {
  readonly code: 'token-unreadable' | 'roots-unreadable' | 'ca-failed' | 'bad-certificate';
  constructor(code: IdentityAgentError['code'], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IdentityAgentError';
    this.code = code;
  }
}

/** The running agent: its secrets, and stop. */
export interface IdentityAgent {
  readonly secrets: SecretStore;
  readonly spiffeId: string;
  /** Resolves once the first certificate is in place (never rejects: failures are retried). */
  ready(): Promise<void>;
  /** Number of certificates obtained so far. */
  readonly issued: number;
  stop(): void;
}

/** Starts the agent: loads the trust bundle, then requests the first certificate in the background. */
export function startIdentityAgent(options: IdentityAgentOptions): IdentityAgent {
  const now = options.now ?? Date.now;
  const setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
  const clearTimer = options.clearTimer ?? ((t) => clearTimeout(t));
  const rotation = createRotationClock({ clock: now, ...(options.random ? { random: options.random } : {}) });
  const initialBackoff = options.initialBackoffMs ?? 1000;
  const maxBackoff = options.maxBackoffMs ?? 30_000;
  const spiffeId = formatSpiffeId({
    trustDomain: options.trustDomain,
    namespace: options.namespace,
    serviceAccount: options.serviceAccount,
  });
  const log = options.logger;
  const secrets = new SecretStore();
  let stopped = false;
  let timer: Timer | undefined;
  let rootTimer: Timer | undefined;
  let failures = 0;
  let issued = 0;
  let markReady: () => void = () => {};
  const readyPromise = new Promise<void>((resolve) => {
    markReady = resolve;
  });

  const loadRoots = async (): Promise<string> => {
    let pem: string;
    try {
      pem = await readFile(options.caRootFile, 'utf8');
    } catch (cause) {
      throw new IdentityAgentError('roots-unreadable', `cannot read ${options.caRootFile}`, { cause });
    }
    if (!pem.includes('-----BEGIN CERTIFICATE-----'))
      throw new IdentityAgentError('roots-unreadable', `${options.caRootFile} holds no PEM certificate`);
    if (pem !== secrets.trustBundle()) {
      const first = secrets.trustBundle() === undefined;
      secrets.setTrustBundle(pem);
      if (!first) log.info('trust bundle changed', { file: options.caRootFile });
    }
    return pem;
  };

  const readToken = async (): Promise<string> => {
    try {
      const token = (await readFile(options.tokenFile, 'utf8')).trim();
      if (!token) throw new Error('the file is empty');
      return token;
    } catch (cause) {
      throw new IdentityAgentError('token-unreadable', `cannot read token file ${options.tokenFile}`, {
        cause,
      });
    }
  };

  const requestCertificate = async (): Promise<void> => {
    const roots = await loadRoots();
    const key = await generateKeyPair({ type: 'ec', curve: 'P-256' });
    const csr = createCsr({ privateKeyPem: key.privateKeyPem, spiffeId });
    const client = createCaClient({
      address: options.caAddress,
      rootCertPem: roots,
      getToken: readToken,
      ...(options.caServerName ? { serverName: options.caServerName } : {}),
    });
    let chain: string[];
    try {
      chain = await client.createCertificate(csr, options.certTtlSeconds);
    } catch (cause) {
      if (cause instanceof IdentityAgentError) throw cause;
      const code = cause instanceof CaClientError ? cause.code : 'failed';
      const inner = cause instanceof CaClientError && cause.cause instanceof IdentityAgentError;
      if (inner) throw cause.cause;
      throw new IdentityAgentError('ca-failed', `weft-ca refused or failed (${code})`, { cause });
    } finally {
      client.close();
    }
    const leafPem = chain[0] ?? '';
    let leaf: X509Certificate;
    try {
      leaf = new X509Certificate(leafPem);
    } catch (cause) {
      throw new IdentityAgentError('bad-certificate', 'the CA returned an unparsable leaf', { cause });
    }
    const got = spiffeIdOf(leafPem);
    if (got !== spiffeId)
      throw new IdentityAgentError(
        'bad-certificate',
        `the CA signed ${got ?? 'no SPIFFE ID'}, not ${spiffeId}`,
      );
    const intermediates = chain.slice(1, -1);
    const notBefore = new Date(leaf.validFrom);
    const notAfter = new Date(leaf.validTo);
    secrets.setCertificate({
      certChainPem: [leafPem, ...intermediates].map((p) => p.trim()).join('\n'),
      privateKeyPem: key.privateKeyPem,
      spiffeId,
      notBefore,
      notAfter,
    });
    issued += 1;
    log.info('workload certificate issued', {
      spiffeId,
      serial: leaf.serialNumber,
      notAfter: notAfter.toISOString(),
    });
    markReady();
    // Lifetimes count from receipt: CAs backdate notBefore (clock skew), which would renew at once.
    schedule(rotation.delayMs(new Date(Math.max(notBefore.getTime(), now())), notAfter));
  };

  const schedule = (ms: number): void => {
    if (stopped) return;
    if (timer) clearTimer(timer);
    timer = setTimer(run, ms);
    timer.unref?.();
  };

  const run = (): void => {
    if (stopped) return;
    requestCertificate().then(
      () => {
        failures = 0;
      },
      (error: unknown) => {
        failures += 1;
        const base = Math.min(maxBackoff, initialBackoff * 2 ** (failures - 1));
        const random = options.random ?? Math.random;
        const delay = Math.round(base * (0.5 + random() / 2));
        const current = secrets.certificate();
        const err = error as IdentityAgentError;
        log.warn('certificate request failed; retrying', {
          code: err.code ?? 'failed',
          error: err.message,
          cause: err.cause instanceof Error ? err.cause.message : undefined,
          retryInMs: delay,
          keepingCertificateUntil:
            current && current.notAfter.getTime() > now() ? current.notAfter.toISOString() : undefined,
        });
        schedule(delay);
      },
    );
  };

  const pollRoots = (): void => {
    if (stopped) return;
    loadRoots().then(
      () => {},
      (error: unknown) =>
        log.warn('trust bundle unreadable; keeping the previous one', {
          error: (error as Error).message,
        }),
    );
    rootTimer = setTimer(pollRoots, options.rootPollMs ?? 1000);
    rootTimer.unref?.();
  };

  run();
  rootTimer = setTimer(pollRoots, options.rootPollMs ?? 1000);
  rootTimer.unref?.();

  return {
    secrets,
    spiffeId,
    ready: () => readyPromise,
    get issued() {
      return issued;
    },
    stop() {
      stopped = true;
      if (timer) clearTimer(timer);
      if (rootTimer) clearTimer(rootTimer);
    },
  };
}
