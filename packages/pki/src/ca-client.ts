/**
 * A client of the Istio CA API: sends a CSR with a bearer token (and,
 * optionally, a client certificate for renewal) over TLS, and returns the
 * PEM chain, leaf first. The proxy uses this without knowing the CA app.
 */
import * as grpc from '@grpc/grpc-js';
import {
  type IstioCertificateRequest,
  type IstioCertificateResponse,
  loadIstioCertificateService,
} from './istio-ca-proto.ts';
import { parseCertificates } from './trust-bundle.ts';

export interface CaClientOptions {
  /** `host:port` of the CA's gRPC endpoint. */
  address: string;
  /** PEM roots that sign the CA's serving certificate (the mesh trust bundle). */
  rootCertPem: string;
  /** A fixed bearer token. */
  token?: string;
  /** Called before each request for a fresh bearer token; wins over `token`. */
  getToken?: () => string | Promise<string>;
  /** PEM client certificate chain and key, to authenticate a renewal with a still-valid certificate. */
  clientCert?: string;
  clientKey?: string;
  /** Overrides the TLS server name checked (default: the host of `address`). */
  serverName?: string;
  /** Per-call deadline in milliseconds; default 10000. */
  timeoutMs?: number;
  /** Sent as `ClusterID` metadata, as Istio agents do. */
  clusterId?: string;
}

export type CaClientErrorCode =
  | 'unauthenticated'
  | 'permission-denied'
  | 'invalid-argument'
  | 'unavailable'
  | 'deadline-exceeded'
  | 'bad-response'
  | 'token-unavailable'
  | 'failed';

/** A failed CreateCertificate call; `code` is stable, `grpcCode` is the raw status when there was one. */
export class CaClientError extends Error {
  readonly code: CaClientErrorCode;
  readonly grpcCode: number | undefined;
  constructor(code: CaClientErrorCode, message: string, options?: { cause?: unknown; grpcCode?: number }) {
    super(message, options);
    this.name = 'CaClientError';
    this.code = code;
    this.grpcCode = options?.grpcCode;
  }
}

export interface CaClient {
  /**
   * Asks the CA to sign `csrPem` for `validitySeconds`. Resolves with the PEM
   * chain, leaf first, root last (at least two certificates); rejects with
   * `CaClientError`. Safe to call concurrently.
   */
  createCertificate(csrPem: string, validitySeconds: number): Promise<string[]>;
  close(): void;
}

const STATUS_TO_CODE: Partial<Record<number, CaClientErrorCode>> = {
  [grpc.status.UNAUTHENTICATED]: 'unauthenticated',
  [grpc.status.PERMISSION_DENIED]: 'permission-denied',
  [grpc.status.INVALID_ARGUMENT]: 'invalid-argument',
  [grpc.status.UNAVAILABLE]: 'unavailable',
  [grpc.status.DEADLINE_EXCEEDED]: 'deadline-exceeded',
};

type UnaryCall = (
  request: IstioCertificateRequest,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, response?: IstioCertificateResponse) => void,
) => grpc.ClientUnaryCall;

/** Creates a CA client. The channel connects lazily on the first call. */
export function createCaClient(options: CaClientOptions): CaClient {
  const Service = loadIstioCertificateService();
  const credentials = grpc.credentials.createSsl(
    Buffer.from(options.rootCertPem),
    options.clientKey ? Buffer.from(options.clientKey) : null,
    options.clientCert ? Buffer.from(options.clientCert) : null,
  );
  const channelOptions: grpc.ChannelOptions = options.serverName
    ? { 'grpc.ssl_target_name_override': options.serverName, 'grpc.default_authority': options.serverName }
    : {};
  const client = new Service(options.address, credentials, channelOptions);
  const call = (client as unknown as { CreateCertificate: UnaryCall }).CreateCertificate.bind(client);

  const createCertificate = async (csrPem: string, validitySeconds: number): Promise<string[]> => {
    const metadata = new grpc.Metadata();
    let token: string | undefined;
    try {
      token = options.getToken ? await options.getToken() : options.token;
    } catch (cause) {
      throw new CaClientError('token-unavailable', `getToken failed: ${(cause as Error).message}`, { cause });
    }
    if (token) metadata.set('authorization', `Bearer ${token}`);
    if (options.clusterId) metadata.set('ClusterID', options.clusterId);
    const deadline = new Date(Date.now() + (options.timeoutMs ?? 10_000));
    const response = await new Promise<IstioCertificateResponse>((resolve, reject) => {
      call({ csr: csrPem, validity_duration: validitySeconds }, metadata, { deadline }, (error, value) => {
        if (error) {
          const code = STATUS_TO_CODE[error.code] ?? 'failed';
          reject(
            new CaClientError(code, error.details || error.message, { cause: error, grpcCode: error.code }),
          );
        } else if (!value) {
          reject(new CaClientError('bad-response', 'CA returned no response'));
        } else resolve(value);
      });
    });
    const chain = response.cert_chain ?? [];
    if (chain.length < 2) {
      throw new CaClientError(
        'bad-response',
        `CA returned a chain of ${chain.length} certificate(s); expected at least 2`,
      );
    }
    const parsed = parseCertificates(chain.join('\n'));
    if (!parsed.ok)
      throw new CaClientError(
        'bad-response',
        `CA returned an unreadable chain: ${parsed.problems[0]?.message}`,
      );
    return chain;
  };
  return { createCertificate, close: () => client.close() };
}
