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
import { CaStartError } from './ca-errors.ts';
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
  return options.pluggedCaDir ? loadPlugged(options, options.pluggedCaDir) : loadSelfSigned(options);
}

async function loadSelfSigned(options: RootOfTrustOptions): Promise<RootOfTrust> {
  const keyPath = join(options.stateDir, STATE_FILES.caKey);
  const certPath = join(options.stateDir, STATE_FILES.caCert);
  const rootCertPath = join(options.stateDir, STATE_FILES.rootCert);
  let certPem = await readIfExists(certPath);
  let keyPem = await readIfExists(keyPath);
  if (certPem === undefined && keyPem !== undefined) {
    throw new CaStartError(
      'state-dir',
      `${keyPath} exists without ${certPath}; restore ${STATE_FILES.caCert} or remove the key to generate a new root`,
    );
  }
  if (certPem === undefined) {
    const root = await createSelfSignedRoot({
      key: options.caKeyType === 'rsa' ? { type: 'rsa', bits: 2048 } : { type: 'ec', curve: 'P-256' },
      subject: { organization: options.trustDomain, commonName: 'Weft Root CA' },
      clock: options.clock,
    });
    keyPem = await writeOnce(keyPath, root.keyPem, KEY_FILE_MODE);
    certPem = await writeOnce(certPath, root.certPem);
  }
  let signer: CertificateSigner;
  try {
    signer = createCertificateSigner({ certPem, keyPem: keyPem! }, { clock: options.clock });
  } catch (cause) {
    throw new CaStartError('state-dir', `${certPath} and ${keyPath} are not a usable CA pair`, { cause });
  }
  const rootCertPem = signer.certPem;
  if ((await readIfExists(rootCertPath)) !== rootCertPem) await writeReplacing(rootCertPath, rootCertPem);
  return { mode: 'self-signed', signer, chainTail: [rootCertPem], rootCertPem, rootCertPath };
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
  const caCertPem = (await readPlugged(dir, STATE_FILES.caCert, true))!;
  const caKeyPem = (await readPlugged(dir, STATE_FILES.caKey, true))!;
  const rootPem = (await readPlugged(dir, STATE_FILES.rootCert, true))!;
  const certChainPem = (await readPlugged(dir, STATE_FILES.certChain, false)) ?? caCertPem;

  let signer: CertificateSigner;
  try {
    signer = createCertificateSigner({ certPem: caCertPem, keyPem: caKeyPem }, { clock: options.clock });
  } catch (cause) {
    const file = (cause as { code?: string }).code === 'invalid-key' ? STATE_FILES.caKey : STATE_FILES.caCert;
    throw new CaStartError('plugged-ca', `${join(dir, file)}: ${(cause as Error).message}`, { cause });
  }
  const bundle = createTrustBundle([rootPem]);
  if (!bundle.ok) {
    throw new CaStartError('plugged-ca', `${join(dir, 'root-cert.pem')}: ${formatProblems(bundle.problems)}`);
  }
  const issuerChain = splitPemCertificates(certChainPem);
  const caCert = new X509Certificate(caCertPem);
  if (
    issuerChain.length === 0 ||
    new X509Certificate(issuerChain[0]!).fingerprint256 !== caCert.fingerprint256
  ) {
    issuerChain.unshift(caCert.toString());
  }
  const verified = verifyChain({ chain: issuerChain, roots: bundle.bundle, now: options.clock() });
  if (!verified.ok) {
    throw new CaStartError(
      'plugged-ca',
      `${join(dir, 'cert-chain.pem')} does not chain ca-cert.pem to root-cert.pem: ${formatProblems(verified.problems)}`,
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

  const rootCertPath = join(options.stateDir, STATE_FILES.rootCert);
  const rootCertPem = bundle.bundle.toPem();
  await writeReplacing(rootCertPath, rootCertPem);
  return { mode: 'plugged', signer, chainTail, rootCertPem, rootCertPath };
}
