/**
 * A fake CA shipped as real code, for tests of CA clients (the proxy's
 * certificate fetching, for one) that must not depend on the weft-ca app. It
 * serves the real Istio CA gRPC service over real TLS with a fresh
 * self-signed root and issues real certificates; what it fakes is
 * authentication: bearer tokens are looked up in a fixed table.
 *
 * It refuses like the real CA does (UNAUTHENTICATED for unknown tokens,
 * INVALID_ARGUMENT for bad CSRs, PERMISSION_DENIED for names other than the
 * caller's SPIFFE ID) and records every call, so tests can assert on them.
 */
import * as grpc from '@grpc/grpc-js';
import { createCertificateSigner, createSelfSignedRoot } from './certificate-signer.ts';
import { parseCsr } from './csr.ts';
import { type IstioCertificateRequest, loadIstioCertificateService } from './istio-ca-proto.ts';
import { generateKeyPair } from './key-pair.ts';
import { formatProblems } from './problems.ts';
import { formatSpiffeId } from './spiffe-id.ts';

export interface FakeCaOptions {
  /** Bearer token -> the workload it proves. */
  tokens: Record<string, { namespace: string; serviceAccount: string }>;
  /** Default `cluster.local`. */
  trustDomain?: string;
  /** Largest lifetime granted, seconds; default 86400. */
  maxTtlSeconds?: number;
  clock?: () => number;
}

/** One CreateCertificate call as the fake saw it. */
export interface FakeCaCall {
  token: string | undefined;
  validitySeconds: number;
  /** gRPC status code sent (0 = OK). */
  status: grpc.status;
  /** SPIFFE ID issued, when status is OK. */
  spiffeId?: string;
}

export interface FakeCa {
  /** `127.0.0.1:PORT`. */
  address: string;
  /** The root to trust (PEM); the serving certificate is valid for 127.0.0.1 and localhost. */
  rootCertPem: string;
  calls: FakeCaCall[];
  close(): Promise<void>;
}

/** Starts a fake CA on an ephemeral loopback port. */
export async function startFakeCa(options: FakeCaOptions): Promise<FakeCa> {
  const trustDomain = options.trustDomain ?? 'cluster.local';
  const root = await createSelfSignedRoot({
    subject: { organization: trustDomain, commonName: 'Fake CA' },
    clock: options.clock,
  });
  const signer = createCertificateSigner(root, { clock: options.clock });
  const servingKey = await generateKeyPair({ type: 'ec' });
  const serving = signer.issue({
    publicKey: servingKey.publicKeyPem,
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    ttlSeconds: 86_400,
  });
  const calls: FakeCaCall[] = [];
  const server = new grpc.Server();
  server.addService(loadIstioCertificateService().service, {
    CreateCertificate: (
      call: grpc.ServerUnaryCall<IstioCertificateRequest, unknown>,
      callback: grpc.sendUnaryData<{ cert_chain: string[] }>,
    ) => {
      const header = call.metadata.get('authorization')[0]?.toString() ?? '';
      const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
      const record: FakeCaCall = {
        token,
        validitySeconds: Number(call.request.validity_duration),
        status: grpc.status.OK,
      };
      calls.push(record);
      const refuse = (status: grpc.status, details: string): void => {
        record.status = status;
        callback({ code: status, details });
      };
      const caller = token === undefined ? undefined : options.tokens[token];
      if (!caller) return refuse(grpc.status.UNAUTHENTICATED, 'authentication failed');
      const parsed = parseCsr(call.request.csr);
      if (!parsed.ok)
        return refuse(grpc.status.INVALID_ARGUMENT, `invalid CSR: ${formatProblems(parsed.problems)}`);
      const spiffeId = formatSpiffeId({ trustDomain, ...caller });
      const names = parsed.csr.subjectAltNames;
      const onlyTheId =
        names.uris.length === 1 &&
        names.uris[0] === spiffeId &&
        names.dnsNames.length + names.ipAddresses.length + names.emails.length + names.otherTags.length === 0;
      if (!onlyTheId) return refuse(grpc.status.PERMISSION_DENIED, `CSR must ask for exactly ${spiffeId}`);
      const ttlSeconds = Math.min(record.validitySeconds || 3600, options.maxTtlSeconds ?? 86_400);
      const leaf = signer.issue({ publicKey: parsed.csr, spiffeId, ttlSeconds });
      record.spiffeId = spiffeId;
      callback(null, { cert_chain: [leaf.certPem, root.certPem] });
    },
  });
  const credentials = grpc.ServerCredentials.createSsl(null, [
    { private_key: Buffer.from(servingKey.privateKeyPem), cert_chain: Buffer.from(serving.certPem) },
  ]);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', credentials, (error, bound) => (error ? reject(error) : resolve(bound)));
  });
  return {
    address: `127.0.0.1:${port}`,
    rootCertPem: root.certPem,
    calls,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}
