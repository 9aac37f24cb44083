/**
 * The Istio CA wire contract: `istio.v1.auth.IstioCertificateService`
 * (`proto/istio-ca.proto`, shipped with this package), loaded with
 * @grpc/proto-loader relative to this module so it works from `src/` and
 * `dist/` alike.
 */
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { PkiError } from './problems.ts';

/** Fully-qualified service name. */
export const ISTIO_CERTIFICATE_SERVICE = 'istio.v1.auth.IstioCertificateService';

/** Request as the loader decodes it (`longs: Number`, `defaults: true`). */
export interface IstioCertificateRequest {
  csr: string;
  /** Seconds. */
  validity_duration: number;
  metadata?: unknown;
}

export interface IstioCertificateResponse {
  cert_chain: string[];
}

/** Absolute path of `istio-ca.proto`. */
export function istioCaProtoPath(): string {
  return fileURLToPath(new URL('../proto/istio-ca.proto', import.meta.url));
}

let cached: grpc.ServiceClientConstructor | undefined;

/**
 * The service's client constructor; its `.service` is the definition a
 * server registers. Loaded once per process. Throws `PkiError('proto-load-failed')`.
 */
export function loadIstioCertificateService(): grpc.ServiceClientConstructor {
  if (cached) return cached;
  try {
    const definition = loadSync(istioCaProtoPath(), {
      keepCase: true,
      longs: Number,
      enums: String,
      defaults: true,
      oneofs: true,
    });
    const loaded = grpc.loadPackageDefinition(definition) as unknown as {
      istio: { v1: { auth: { IstioCertificateService: grpc.ServiceClientConstructor } } };
    };
    cached = loaded.istio.v1.auth.IstioCertificateService;
    return cached;
  } catch (cause) {
    throw new PkiError('proto-load-failed', `cannot load ${istioCaProtoPath()}`, { cause });
  }
}
