/**
 * The CA's root of trust: a self-signed root generated on first start and
 * kept in the state dir, or an operator-supplied ("plugged-in") intermediate
 * in Istio's `cacerts` layout. Either way the trust bundle ends up at
 * `STATE_DIR/root-cert.pem`.
 *
 * State dir (self-signed): `ca-key.pem` (0600), `ca-cert.pem`,
 * `root-cert.pem` (the same certificate: the root signs workloads directly).
 * Plugged-in: `ca-cert.pem`, `ca-key.pem`, `root-cert.pem`, `cert-chain.pem`
 * read from the plugged dir; only `root-cert.pem` is copied to the state dir.
 */
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import {
  type CertificateSigner,
  createCertificateSigner,
  createSelfSignedRoot,
  createTrustBundle,
  formatProblems,
  splitPemCertificates,
  verifyChain,
} from '@weft/pki';
import { CaStartError, type CaStartErrorCode } from './ca-errors.ts';
import { ensureDir, KEY_FILE_MODE, readIfExists, writeOnce, writeReplacing } from './state-files.ts';

export interface RootOfTrust {
  mode: 'self-signed' | 'plugged';
  signer: CertificateSigner;
  /** Certificates after the leaf in every response: the issuer chain, the root last. */
  chainTail: string[];
  /** The trust bundle (every root in root-cert.pem). */
  rootCertPem: string;
  rootCertPath: string;
}

export interface RootOfTrustOptions {
  stateDir: string;
  caKeyType: 'ec' | 'rsa';
  trustDomain: string;
  pluggedCaDir?: string;
  clock: () => number;
  /** Where the root lives when not in files (Kubernetes Secrets); `pluggedCaDir` still wins. */
  external?: () => Promise<RootMaterial>;
}

export const STATE_FILES = {
  caKey: 'ca-key.pem',
  caCert: 'ca-cert.pem',
  rootCert: 'root-cert.pem',
  certChain: 'cert-chain.pem',
  tokenKey: 'token-signing-key.pem',
  auditLog: 'audit.log',
} as const;

/** Loads or creates the root of trust. Throws `CaStartError` with the file and reason. */
export async function loadRootOfTrust(options: RootOfTrustOptions): Promise<RootOfTrust> {
  try {
    await ensureDir(options.stateDir);
  } catch (cause) {
    throw new CaStartError('state-dir', `cannot create state dir ${options.stateDir}`, { cause });
  }
  if (options.pluggedCaDir) return loadPlugged(options, options.pluggedCaDir);
  if (options.external) return publishRootCert(options.stateDir, await options.external());
  return loadSelfSigned(options);
}

async function loadSelfSigned(options: RootOfTrustOptions): Promise<RootOfTrust> {
  const keyPath = join(options.stateDir, STATE_FILES.caKey);
  const certPath = join(options.stateDir, STATE_FILES.caCert);
  let certPem = await readIfExists(certPath);
  let keyPem = await readIfExists(keyPath);
  if (certPem === undefined && keyPem !== undefined) {
    throw new CaStartError(
      'state-dir',
      `${keyPath} exists without ${certPath}; restore ${STATE_FILES.caCert} or remove the key to generate a new root`,
    );
  }
  if (certPem === undefined) {
    const root = await generateSelfSignedRoot(options);
    keyPem = await writeOnce(keyPath, root.keyPem, KEY_FILE_MODE);
    certPem = await writeOnce(certPath, root.certPem);
  }
  const material = selfSignedFromPems(
    { certPem, keyPem: keyPem! },
    `${certPath} and ${keyPath}`,
    'state-dir',
    options,
  );
  return publishRootCert(options.stateDir, material);
}

/** A new self-signed root (key type from the options), not yet stored anywhere. */
export async function generateSelfSignedRoot(
  options: Pick<RootOfTrustOptions, 'caKeyType' | 'trustDomain' | 'clock'>,
): Promise<{ certPem: string; keyPem: string }> {
  const root = await createSelfSignedRoot({
    key: options.caKeyType === 'rsa' ? { type: 'rsa', bits: 2048 } : { type: 'ec', curve: 'P-256' },
    subject: { organization: options.trustDomain, commonName: 'Weft Root CA' },
    clock: options.clock,
  });
  return { certPem: root.certPem, keyPem: root.keyPem };
}

/** A root of trust before its bundle is written to the state dir. */
export type RootMaterial = Omit<RootOfTrust, 'rootCertPath'>;

/**
 * A self-signed root from its certificate and key; `where` names their
 * origin in the error (files or a Secret). Throws `CaStartError(code)`.
 */
export function selfSignedFromPems(
  pems: { certPem: string; keyPem: string },
  where: string,
  code: CaStartErrorCode,
  options: Pick<RootOfTrustOptions, 'clock'>,
): RootMaterial {
  let signer: CertificateSigner;
  try {
    signer = createCertificateSigner(pems, { clock: options.clock });
  } catch (cause) {
    throw new CaStartError(code, `${where} are not a usable CA pair`, { cause });
  }
  return { mode: 'self-signed', signer, chainTail: [signer.certPem], rootCertPem: signer.certPem };
}

/** Writes the trust bundle to `STATE_DIR/root-cert.pem` (only when it changed). */
export async function publishRootCert(stateDir: string, material: RootMaterial): Promise<RootOfTrust> {
  const rootCertPath = join(stateDir, STATE_FILES.rootCert);
  if ((await readIfExists(rootCertPath)) !== material.rootCertPem) {
    await writeReplacing(rootCertPath, material.rootCertPem);
  }
  return { ...material, rootCertPath };
}

async function readPlugged(dir: string, name: string, required: boolean): Promise<string | undefined> {
  const path = join(dir, name);
  let text: string | undefined;
  try {
    text = await readIfExists(path);
  } catch (cause) {
    throw new CaStartError('plugged-ca', `cannot read ${path}`, { cause });
  }
  if (text === undefined && required) throw new CaStartError('plugged-ca', `${path} is missing`);
  return text;
}

async function loadPlugged(options: RootOfTrustOptions, dir: string): Promise<RootOfTrust> {
  const pems: PluggedPems = {
    caCertPem: (await readPlugged(dir, STATE_FILES.caCert, true))!,
    caKeyPem: (await readPlugged(dir, STATE_FILES.caKey, true))!,
    rootCertPem: (await readPlugged(dir, STATE_FILES.rootCert, true))!,
    certChainPem: await readPlugged(dir, STATE_FILES.certChain, false),
  };
  return publishRootCert(
    options.stateDir,
    pluggedFromPems(pems, (file) => join(dir, file), 'plugged-ca', options),
  );
}

/** Istio's `cacerts` layout: the CA's own pair, the roots, and the chain from the CA up. */
export interface PluggedPems {
  caCertPem: string;
  caKeyPem: string;
  rootCertPem: string;
  /** Missing: the CA certificate alone. */
  certChainPem?: string;
}

/**
 * An operator-supplied intermediate: checks that the pair matches and that
 * cert-chain.pem chains ca-cert.pem to root-cert.pem. `where(file)` names
 * each file's origin in errors. Throws `CaStartError(code)`.
 */
export function pluggedFromPems(
  pems: PluggedPems,
  where: (file: string) => string,
  code: CaStartErrorCode,
  options: Pick<RootOfTrustOptions, 'clock'>,
): RootMaterial {
  let signer: CertificateSigner;
  try {
    signer = createCertificateSigner(
      { certPem: pems.caCertPem, keyPem: pems.caKeyPem },
      { clock: options.clock },
    );
  } catch (cause) {
    const file = (cause as { code?: string }).code === 'invalid-key' ? STATE_FILES.caKey : STATE_FILES.caCert;
    throw new CaStartError(code, `${where(file)}: ${(cause as Error).message}`, { cause });
  }
  const bundle = createTrustBundle([pems.rootCertPem]);
  if (!bundle.ok) {
    throw new CaStartError(code, `${where(STATE_FILES.rootCert)}: ${formatProblems(bundle.problems)}`);
  }
  const issuerChain = splitPemCertificates(pems.certChainPem || pems.caCertPem);
  const caCert = new X509Certificate(pems.caCertPem);
  if (
    issuerChain.length === 0 ||
    new X509Certificate(issuerChain[0]!).fingerprint256 !== caCert.fingerprint256
  ) {
    issuerChain.unshift(caCert.toString());
  }
  const verified = verifyChain({ chain: issuerChain, roots: bundle.bundle, now: options.clock() });
  if (!verified.ok) {
    throw new CaStartError(
      code,
      `${where(STATE_FILES.certChain)} does not chain ca-cert.pem to root-cert.pem: ${formatProblems(verified.problems)}`,
    );
  }
  const last = new X509Certificate(issuerChain[issuerChain.length - 1]!);
  const anchor = bundle.bundle.contains(last)
    ? last
    : bundle.bundle.certificates.find((root) => last.checkIssued(root) && last.verify(root.publicKey))!;
  const chainTail = issuerChain.filter(
    (pem) => new X509Certificate(pem).fingerprint256 !== anchor.fingerprint256,
  );
  chainTail.push(anchor.toString());
  return { mode: 'plugged', signer, chainTail, rootCertPem: bundle.bundle.toPem() };
}
