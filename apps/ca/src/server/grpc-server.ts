/**
 * The CA's gRPC endpoint: `istio.v1.auth.IstioCertificateService` over TLS
 * with a serving certificate the CA issued itself. Client certificates are
 * requested but optional: a verified one may authenticate a renewal.
 */
import type { SecureContextOptions } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { type IstioCertificateRequest, loadIstioCertificateService } from '@weft/pki';
import type { HostPort } from '../config/flags.ts';
import { CaRequestError } from '../signing/ca-errors.ts';
import type { CreateCertificateInput } from './create-certificate.ts';

/** Largest gRPC message accepted; larger ones fail with RESOURCE_EXHAUSTED before any parsing. */
export const MAX_MESSAGE_BYTES = 64 * 1024;

/** TLS that asks for a client certificate without requiring one (grpc-js's createSsl cannot). */
class OptionalClientCertCredentials extends grpc.ServerCredentials {
  constructor(context: SecureContextOptions) {
    super({ requestCert: true, rejectUnauthorized: false }, context);
  }
  override _equals(other: grpc.ServerCredentials): boolean {
    return other === this;
  }
}

export interface GrpcServerOptions {
  address: HostPort;
  servingKeyPem: string;
  /** Serving certificate chain (leaf first). */
  servingChainPem: string;
  /** Roots a client certificate must chain to. */
  clientRootsPem: string;
  handle: (input: CreateCertificateInput) => Promise<string[]>;
}

export interface RunningGrpcServer {
  port: number;
  close(): Promise<void>;
}

function hostForBind(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** Starts serving; rejects with the bind error. */
export async function startGrpcServer(options: GrpcServerOptions): Promise<RunningGrpcServer> {
  const server = new grpc.Server({ 'grpc.max_receive_message_length': MAX_MESSAGE_BYTES });
  server.addService(loadIstioCertificateService().service, {
    CreateCertificate: (
      call: grpc.ServerUnaryCall<IstioCertificateRequest, unknown>,
      callback: grpc.sendUnaryData<{ cert_chain: string[] }>,
    ) => {
      const peer = call.getAuthContext()?.sslPeerCertificate;
      // Both outcomes are handled here; nothing is left to reject.
      void options
        .handle({
          csr: call.request.csr,
          validitySeconds: Number(call.request.validity_duration),
          authorization: call.metadata.get('authorization')[0]?.toString(),
          peerCertificate: peer?.raw,
        })
        .then(
          (chain) => callback(null, { cert_chain: chain }),
          (error: unknown) => {
            const refusal =
              error instanceof CaRequestError ? error : new CaRequestError('internal', 'internal error');
            callback({ code: refusal.grpcStatus, details: refusal.message });
          },
        );
    },
  });
  const credentials = new OptionalClientCertCredentials({
    key: options.servingKeyPem,
    cert: options.servingChainPem,
    ca: options.clientRootsPem,
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(
      `${hostForBind(options.address.host)}:${options.address.port}`,
      credentials,
      (error, bound) => {
        if (!error) return resolve(bound);
        server.forceShutdown();
        reject(error);
      },
    );
  });
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.forceShutdown(), 2000);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}
