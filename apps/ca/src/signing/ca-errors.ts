/**
 * Failures of the CA: at start (state dir, plugged-in CA, flags) and per
 * request. A request failure carries the gRPC status it maps to, the message
 * the caller sees, and the reason label counted in metrics.
 */
import { status } from '@grpc/grpc-js';

export type CaStartErrorCode = 'state-dir' | 'plugged-ca' | 'listen' | 'kubeconfig' | 'kube-api';

/** The CA could not start; `code` says which part failed. */
export class CaStartError extends Error {
  readonly code: CaStartErrorCode;
  constructor(code: CaStartErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CaStartError';
    this.code = code;
  }
}

/** Why a CreateCertificate request was refused; also the metrics `reason` label. */
export type RejectReason =
  | 'invalid-request'
  | 'bad-csr'
  | 'unauthenticated'
  | 'permission-denied'
  | 'authn-unavailable'
  | 'internal';

const STATUS: Record<RejectReason, status> = {
  'invalid-request': status.INVALID_ARGUMENT,
  'bad-csr': status.INVALID_ARGUMENT,
  unauthenticated: status.UNAUTHENTICATED,
  'permission-denied': status.PERMISSION_DENIED,
  'authn-unavailable': status.UNAVAILABLE,
  internal: status.INTERNAL,
};

/** A refused request: `message` goes to the caller, `detail` only to the log. */
export class CaRequestError extends Error {
  readonly code: RejectReason;
  readonly grpcStatus: status;
  readonly detail: string | undefined;
  constructor(code: RejectReason, message: string, options?: { detail?: string; cause?: unknown }) {
    super(message, { cause: options?.cause });
    this.name = 'CaRequestError';
    this.code = code;
    this.grpcStatus = STATUS[code];
    this.detail = options?.detail;
  }
}
