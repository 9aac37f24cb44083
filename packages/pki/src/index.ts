/**
 * @weft/pki: SPIFFE identities, keys, CSRs, certificate signing, chains and
 * trust bundles, the certificate rotation clock, and the Istio CA wire
 * contract (proto + client) shared by the CA and the proxy.
 *
 * Owns: the X.509/PKCS#10 encoding Weft issues, SPIFFE ID rules, the
 * `istio.v1.auth.IstioCertificateService` proto and its client.
 * Must not depend on: any Weft app, Kubernetes, @weft/config.
 */

export type { CaClient, CaClientErrorCode, CaClientOptions } from './ca-client.ts';
export { CaClientError, createCaClient } from './ca-client.ts';
export type {
  CaCertificate,
  CaKeyMaterial,
  CertificateSigner,
  CheckedPublicKey,
  IntermediateOptions,
  IssuedCertificate,
  IssueRequest,
  RootOptions,
  SignerOptions,
  SubjectName,
} from './certificate-signer.ts';
export {
  createCertificateSigner,
  createIntermediate,
  createSelfSignedRoot,
  signCertificate,
} from './certificate-signer.ts';
export type { CreateCsrOptions, ParseCsrOptions, ParsedCsr } from './csr.ts';
export { createCsr, parseCsr } from './csr.ts';
export type { FakeCa, FakeCaCall, FakeCaOptions } from './fake-ca.ts';
export { startFakeCa } from './fake-ca.ts';
export type { IstioCertificateRequest, IstioCertificateResponse } from './istio-ca-proto.ts';
export {
  ISTIO_CERTIFICATE_SERVICE,
  istioCaProtoPath,
  loadIstioCertificateService,
} from './istio-ca-proto.ts';
export type { EcCurve, KeyPair, KeyPairOptions, KeySpec, RsaBits } from './key-pair.ts';
export { describeKeySpec, generateKeyPair } from './key-pair.ts';
export type { PkiErrorCode, Problem, Result } from './problems.ts';
export { formatProblems, PkiError } from './problems.ts';
export type { RotationClock, RotationClockOptions } from './rotation-clock.ts';
export { createRotationClock, validateRotationOptions } from './rotation-clock.ts';
export type { SpiffeId, WorkloadIdentity } from './spiffe-id.ts';
export {
  formatSpiffeId,
  parseSpiffeId,
  parseWorkloadId,
  validateTrustDomain,
  validateWorkloadIdentity,
} from './spiffe-id.ts';
export type { SubjectAltNames } from './subject-alt-name.ts';
export type { TrustBundle, VerifyChainOptions } from './trust-bundle.ts';
export {
  buildChain,
  createTrustBundle,
  parseCertificates,
  spiffeIdOf,
  splitPemCertificates,
  verifyChain,
} from './trust-bundle.ts';
