/**
 * Starts a CA: root of trust, authenticators, serving certificate, gRPC and
 * HTTP endpoints. Used by `main.ts`, the tests and (later) `weft up`.
 *
 * Ordering: the root of trust and root-cert.pem exist before any port opens;
 * `/ready` turns 200 only after the gRPC server is bound.
 */
import { isIP } from 'node:net';
import { join } from 'node:path';
import { generateKeyPair } from '@weft/pki';
import { createLogger, createMetrics, type Logger, type MetricsRegistry } from '@weft/telemetry';
import type { TokenAuthenticator } from './authn/identity.ts';
import { createLocalTokenAuthenticator, loadTokenSigningKey } from './authn/local-token.ts';
import { createTokenReviewAuthenticator } from './authn/token-review.ts';
import { type CaOptions, DEFAULT_KUBE_NAMESPACE } from './config/flags.ts';
import { loadRootFromSecrets } from './kube/ca-secret.ts';
import { loadKubeConfig } from './kube/kube-config.ts';
import { type RootCertPublisher, startRootCertPublisher } from './kube/root-cert-publisher.ts';
import { createCaMetrics } from './server/ca-metrics.ts';
import { createCertificateHandler } from './server/create-certificate.ts';
import { startGrpcServer } from './server/grpc-server.ts';
import { startHttpServer } from './server/http-server.ts';
import { openAuditLog } from './signing/audit-log.ts';
import { CaStartError } from './signing/ca-errors.ts';
import { loadRootOfTrust, STATE_FILES } from './signing/root-of-trust.ts';

/** Lifetime of the CA's own serving certificate (re-issued at every start), capped at the CA's expiry. */
export const SERVING_CERT_TTL_SECONDS = 365 * 86_400;

export interface StartCaDeps {
  clock?: () => number;
  logger?: Logger;
  metrics?: MetricsRegistry;
}

export interface RunningCa {
  /** `host:port` of the gRPC endpoint (the real port when 0 was asked). */
  grpcAddress: string;
  grpcPort: number;
  /** `http://host:port`. */
  httpUrl: string;
  httpPort: number;
  rootCertPem: string;
  rootCertPath: string;
  mode: 'self-signed' | 'plugged';
  metrics: MetricsRegistry;
  /**
   * With `kube`: resolves once ConfigMap `istio-ca-root-cert` was reconciled
   * in every namespace listed at start (publishing goes on until close).
   * Without: resolved.
   */
  rootCertPublished: Promise<void>;
  /** Stops serving and flushes the audit log. Safe to call twice. */
  close(): Promise<void>;
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** Starts the CA; rejects with `CaStartError` (or a listen error) and leaves nothing running. */
export async function startCa(options: CaOptions, deps: StartCaDeps = {}): Promise<RunningCa> {
  const clock = deps.clock ?? Date.now;
  const logger = deps.logger ?? createLogger({ name: 'weft-ca', level: options.logLevel });
  const metrics = deps.metrics ?? createMetrics({ serviceName: 'weft-ca' });
  const kube = options.kube ? loadKubeConfig(options.kubeconfig) : undefined;
  const kubeNamespace = options.kubeNamespace ?? DEFAULT_KUBE_NAMESPACE;
  const root = await loadRootOfTrust({
    ...options,
    clock,
    external: kube
      ? () => loadRootFromSecrets(kube, { ...options, namespace: kubeNamespace, clock, logger })
      : undefined,
  });
  let tokens: TokenAuthenticator;
  if (kube) tokens = createTokenReviewAuthenticator(kube);
  else tokens = createLocalTokenAuthenticator(await loadTokenSigningKey(options.stateDir), clock);

  const servingKey = await generateKeyPair({ type: 'ec', curve: 'P-256' });
  const names = ['localhost', '127.0.0.1', '::1', ...options.servingNames];
  const serving = root.signer.issue({
    publicKey: servingKey.publicKeyPem,
    subject: { organization: options.trustDomain, commonName: 'weft-ca' },
    dnsNames: [...new Set(names.filter((n) => isIP(n) === 0))],
    ipAddresses: [...new Set(names.filter((n) => isIP(n) !== 0))],
    ttlSeconds: SERVING_CERT_TTL_SECONDS,
  });

  const audit = openAuditLog(join(options.stateDir, STATE_FILES.auditLog), clock, (error) =>
    logger.error('audit log write failed', { error }),
  );
  const handle = createCertificateHandler({
    root,
    tokens,
    trustDomain: options.trustDomain,
    certTtlSeconds: options.certTtlSeconds,
    maxCertTtlSeconds: options.maxCertTtlSeconds,
    audit,
    metrics: createCaMetrics(metrics),
    logger,
    clock,
  });
  let ready = false;
  const http = await startHttpServer({
    address: options.httpAddr,
    rootCertPem: () => root.rootCertPem,
    metrics,
    ready: () => ready,
  }).catch(async (cause) => {
    await audit.close();
    throw new CaStartError('listen', `cannot listen on ${options.httpAddr.host}:${options.httpAddr.port}`, {
      cause,
    });
  });
  const grpcServer = await startGrpcServer({
    address: options.grpcAddr,
    servingKeyPem: servingKey.privateKeyPem,
    servingChainPem: [serving.certPem, ...root.chainTail.slice(0, -1)].join(''),
    clientRootsPem: root.rootCertPem,
    handle,
  }).catch(async (cause) => {
    await Promise.all([http.close(), audit.close()]);
    throw new CaStartError('listen', `cannot listen on ${options.grpcAddr.host}:${options.grpcAddr.port}`, {
      cause,
    });
  });
  ready = true;
  // Publishing starts once the CA serves: workloads that read the ConfigMap can reach it.
  const publisher: RootCertPublisher | undefined = kube
    ? startRootCertPublisher(kube, { rootCertPem: root.rootCertPem, logger })
    : undefined;
  const grpcAddress = `${urlHost(options.grpcAddr.host)}:${grpcServer.port}`;
  logger.info('weft-ca serving', {
    grpc: grpcAddress,
    http: `${urlHost(options.httpAddr.host)}:${http.port}`,
    mode: root.mode,
    trustDomain: options.trustDomain,
    authn: options.kube ? 'token-review' : 'local-token',
    ...(kube ? { kubeNamespace } : {}),
    rootCert: root.rootCertPath,
  });
  let closing: Promise<void> | undefined;
  return {
    grpcAddress,
    grpcPort: grpcServer.port,
    httpUrl: `http://${urlHost(options.httpAddr.host)}:${http.port}`,
    httpPort: http.port,
    rootCertPem: root.rootCertPem,
    rootCertPath: root.rootCertPath,
    mode: root.mode,
    metrics,
    rootCertPublished: publisher?.synced ?? Promise.resolve(),
    close: () => {
      ready = false;
      closing ??= Promise.all([grpcServer.close(), http.close(), publisher?.close()]).then(() =>
        audit.close(),
      );
      return closing;
    },
  };
}
