/**
 * The certificate side of Envoy's TLS contexts (envoy/extensions/
 * transport_sockets/tls/v3/tls.proto, common.proto, secret.proto) as mesh
 * mTLS uses them: the certificate and the trust bundle are SDS references
 * (`default`, `ROOTCA` over ADS) that the proxy's identity agent serves;
 * peers are checked against `matchTypedSubjectAltNames` (URI SANs: SPIFFE
 * IDs, exact or by trust-domain prefix).
 *
 * User TLS (DestinationRule SIMPLE/MUTUAL, Gateway servers) names PEM
 * files (`filename`, as Envoy and Istio's mounted secrets) or inline
 * strings: they are read when the resource is compiled, and a file that
 * cannot be read or holds no PEM is a problem (NACK) naming the field.
 * Other SDS names (e.g. `kubernetes://NAME`) are not supported.
 */
import { readFileSync } from 'node:fs';
import { compileStringMatcher, type StringPredicate } from '../config/matchers.ts';
import {
  at,
  type Body,
  type ProblemList,
  readBodies,
  readBody,
  readString,
  readStrings,
} from '../config/problems.ts';

/** The SDS names the identity agent serves. */
export const AGENT_SECRETS: readonly string[] = ['default', 'ROOTCA'];

export interface SanMatcher {
  /** `URI`, `DNS`, `EMAIL`, `IP_ADDRESS`, or `ANY` (legacy matchSubjectAltNames). */
  readonly type: string;
  readonly test: StringPredicate;
}

/** How a peer certificate is validated: chains to the trust bundle and, when listed, a SAN matches. */
export interface PeerValidationConfig {
  /** `ROOTCA` from the agent, or undefined when `trustedCaPem` is given. */
  readonly trustBundleSds: string | undefined;
  /** PEM roots from the context itself (`trustedCa` file or inline string). */
  readonly trustedCaPem: string | undefined;
  readonly sanMatchers: readonly SanMatcher[];
}

/** The certificate material and checks of one TLS context. */
export interface TlsCertificatesConfig {
  /** SDS name of the certificate chain and key to present (undefined: none). */
  readonly certificateSds: string | undefined;
  /** A certificate chain and key given by the context (files or inline), instead of SDS. */
  readonly certificatePem: { readonly chain: string; readonly key: string } | undefined;
  /** Peer validation (undefined: the peer is not verified). */
  readonly validation: PeerValidationConfig | undefined;
  readonly alpn: readonly string[];
}

export interface DownstreamTlsConfig extends TlsCertificatesConfig {
  readonly requireClientCertificate: boolean;
}

const SAN_TYPES = ['URI', 'DNS', 'EMAIL', 'IP_ADDRESS'];

/** Reads a `config.core.v3.DataSource` holding PEM (`filename` or `inlineString`); problems name the field. */
function readPemSource(parent: Body, field: string, path: string, problems: ProblemList): string | undefined {
  const source = readBody(parent, field, path, problems);
  const fieldPath = at(path, field);
  if (!source) {
    problems.add(fieldPath, 'is required');
    return undefined;
  }
  let pem = readString(source, 'inlineString', fieldPath, problems);
  const filename = readString(source, 'filename', fieldPath, problems);
  if (pem === undefined && filename) {
    try {
      pem = readFileSync(filename, 'utf8');
    } catch (error) {
      problems.add(
        at(fieldPath, 'filename'),
        `cannot read ${filename}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
      return undefined;
    }
  }
  if (pem === undefined) {
    problems.add(fieldPath, 'one of filename or inlineString is required');
    return undefined;
  }
  if (!pem.includes('-----BEGIN ')) {
    problems.add(fieldPath, `${filename ?? 'the inline value'} holds no PEM`);
    return undefined;
  }
  return pem;
}

function readSdsName(config: Body, path: string, problems: ProblemList): string | undefined {
  const name = readString(config, 'name', path, problems) ?? '';
  const source = readBody(config, 'sdsConfig', path, problems);
  if (!name) problems.add(at(path, 'name'), 'is required');
  else if (!AGENT_SECRETS.includes(name))
    problems.add(
      at(path, 'name'),
      `unknown SDS secret ${name} (the agent serves ${AGENT_SECRETS.join(', ')})`,
    );
  if (source && !source.ads) problems.add(at(path, 'sdsConfig'), 'only ads config sources are supported');
  return name || undefined;
}

function compileSanMatchers(validation: Body, path: string, problems: ProblemList): SanMatcher[] {
  const out: SanMatcher[] = [];
  for (const { body, path: p } of readBodies(validation, 'matchTypedSubjectAltNames', path, problems)) {
    const type = readString(body, 'sanType', p, problems) ?? '';
    if (!SAN_TYPES.includes(type)) {
      problems.add(at(p, 'sanType'), `must be one of ${SAN_TYPES.join(', ')}`);
      continue;
    }
    const matcher = readBody(body, 'matcher', p, problems);
    const test = matcher && compileStringMatcher(matcher, at(p, 'matcher'), problems);
    if (test) out.push({ type, test });
    else if (!matcher) problems.add(at(p, 'matcher'), 'is required');
  }
  for (const { body, path: p } of readBodies(validation, 'matchSubjectAltNames', path, problems)) {
    const test = compileStringMatcher(body, p, problems);
    if (test) out.push({ type: 'ANY', test });
  }
  for (const field of ['verifyCertificateSpki', 'verifyCertificateHash', 'crl']) {
    if (validation[field]) problems.add(at(path, field), 'is not supported');
  }
  return out;
}

/** Compiles a `CommonTlsContext` at `path`. */
export function compileCommonTlsContext(
  common: Body,
  path: string,
  problems: ProblemList,
): TlsCertificatesConfig {
  let certificatePem: TlsCertificatesConfig['certificatePem'];
  const inlineCerts = readBodies(common, 'tlsCertificates', path, problems);
  const sdsCerts = readBodies(common, 'tlsCertificateSdsSecretConfigs', path, problems);
  if (inlineCerts.length + sdsCerts.length > 1)
    problems.add(
      path,
      'at most one certificate (tlsCertificates or tlsCertificateSdsSecretConfigs) is supported',
    );
  if (inlineCerts[0]) {
    const { body, path: cPath } = inlineCerts[0];
    const chain = readPemSource(body, 'certificateChain', cPath, problems);
    const key = readPemSource(body, 'privateKey', cPath, problems);
    if (chain && key) certificatePem = { chain, key };
  }
  const certificateSds = sdsCerts[0] ? readSdsName(sdsCerts[0].body, sdsCerts[0].path, problems) : undefined;
  if (certificateSds && certificateSds !== 'default')
    problems.add(at(path, 'tlsCertificateSdsSecretConfigs'), 'the certificate secret must be default');
  let validation: PeerValidationConfig | undefined;
  const combined = readBody(common, 'combinedValidationContext', path, problems);
  const sdsValidation = readBody(common, 'validationContextSdsSecretConfig', path, problems);
  const inlineValidation = readBody(common, 'validationContext', path, problems);
  if (combined) {
    const cPath = at(path, 'combinedValidationContext');
    const sds = readBody(combined, 'validationContextSdsSecretConfig', cPath, problems);
    const name = sds ? readSdsName(sds, at(cPath, 'validationContextSdsSecretConfig'), problems) : undefined;
    if (!sds) problems.add(at(cPath, 'validationContextSdsSecretConfig'), 'is required');
    const defaults = readBody(combined, 'defaultValidationContext', cPath, problems) ?? {};
    const sanMatchers = compileSanMatchers(defaults, at(cPath, 'defaultValidationContext'), problems);
    validation = { trustBundleSds: name ?? 'ROOTCA', trustedCaPem: undefined, sanMatchers };
  } else if (sdsValidation) {
    const name = readSdsName(sdsValidation, at(path, 'validationContextSdsSecretConfig'), problems);
    validation = { trustBundleSds: name ?? 'ROOTCA', trustedCaPem: undefined, sanMatchers: [] };
  } else if (inlineValidation) {
    const vPath = at(path, 'validationContext');
    const sanMatchers = compileSanMatchers(inlineValidation, vPath, problems);
    const trustedCaPem = readPemSource(inlineValidation, 'trustedCa', vPath, problems);
    validation = { trustBundleSds: undefined, trustedCaPem, sanMatchers };
  }
  if (validation?.trustBundleSds !== undefined && validation.trustBundleSds !== 'ROOTCA')
    problems.add(path, 'the validation secret must be ROOTCA');
  return {
    certificateSds,
    certificatePem,
    validation,
    alpn: readStrings(common, 'alpnProtocols', path, problems),
  };
}

/** Compiles a DownstreamTlsContext body (the typedConfig of a filter chain's transport socket). */
export function compileDownstreamTlsContext(
  config: Body,
  path: string,
  problems: ProblemList,
): DownstreamTlsConfig {
  const common = readBody(config, 'commonTlsContext', path, problems) ?? {};
  const compiled = compileCommonTlsContext(common, at(path, 'commonTlsContext'), problems);
  if (!compiled.certificateSds && !compiled.certificatePem)
    problems.add(
      at(path, 'commonTlsContext.tlsCertificateSdsSecretConfigs'),
      'a server certificate is required',
    );
  const require = readBody(config, 'requireClientCertificate', path, problems);
  const requireClientCertificate = require?.value === true;
  if (requireClientCertificate && !compiled.validation)
    problems.add(at(path, 'requireClientCertificate'), 'needs a validation context to verify the client');
  return { ...compiled, requireClientCertificate };
}

/** SAN values of a peer certificate (node's `subjectaltname` string) by type. */
export function parseSubjectAltNames(
  subjectAltName: string | undefined,
): Array<{ type: string; value: string }> {
  if (!subjectAltName) return [];
  const out: Array<{ type: string; value: string }> = [];
  for (const part of subjectAltName.split(', ')) {
    const colon = part.indexOf(':');
    if (colon < 0) continue;
    const kind = part.slice(0, colon);
    const type = kind === 'IP Address' ? 'IP_ADDRESS' : kind === 'email' ? 'EMAIL' : kind;
    out.push({ type, value: part.slice(colon + 1) });
  }
  return out;
}

/** True when `matchers` is empty or one matches one of the SANs of its type. */
export function sanAccepted(
  matchers: readonly SanMatcher[],
  sans: readonly { type: string; value: string }[],
): boolean {
  if (matchers.length === 0) return true;
  return matchers.some((m) =>
    sans.some((san) => (m.type === 'ANY' || m.type === san.type) && m.test(san.value)),
  );
}
