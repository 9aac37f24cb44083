/**
 * weft-ca: the Weft certificate authority as a library, for tests and for
 * `weft up`. The CLI lives in `main.ts`.
 *
 * Owns: the root of trust in the state dir, caller authentication (local
 * tokens, TokenReview, client certificates), authorization of CSR names,
 * issuance, the audit log, the CA's gRPC and HTTP endpoints.
 * Must not depend on: other Weft apps; the Istio CA wire contract comes from @weft/pki.
 */

export type { CallerIdentity } from './authn/identity.ts';
export type { MintTokenOptions } from './authn/local-token.ts';
export { loadTokenSigningKey, mintLocalToken, TOKEN_AUDIENCE, TOKEN_ISSUER } from './authn/local-token.ts';
export { formatDuration, parseDuration } from './config/duration.ts';
export type { CaOptions, HostPort, TokenOptions } from './config/flags.ts';
export { parseServeFlags, parseTokenFlags, SERVE_HELP } from './config/flags.ts';
export { MAX_CSR_LENGTH } from './server/create-certificate.ts';
export { MAX_MESSAGE_BYTES } from './server/grpc-server.ts';
export type { CaStartErrorCode, RejectReason } from './signing/ca-errors.ts';
export { CaRequestError, CaStartError } from './signing/ca-errors.ts';
export { STATE_FILES } from './signing/root-of-trust.ts';
export type { RunningCa, StartCaDeps } from './start-ca.ts';
export { SERVING_CERT_TTL_SECONDS, startCa } from './start-ca.ts';
