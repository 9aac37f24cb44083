/**
 * The CA's key and certificate kept in Kubernetes Secrets, with Istio's names
 * so an Istio operator's habits and tooling carry over:
 *
 * - `cacerts` (operator-supplied intermediate, read only): `ca-cert.pem`,
 *   `ca-key.pem`, `root-cert.pem`, `cert-chain.pem`.
 * - `istio-ca-secret` (self-signed root, type `istio.io/ca-root`):
 *   `ca-cert.pem`, `ca-key.pem`; created once by the first CA to start and
 *   reused by every later start and every replica.
 *
 * Order: `cacerts` wins when it exists; then `istio-ca-secret`; else a new
 * root is generated and created. Two replicas starting together race on the
 * create: the loser gets 409 Conflict and reads the winner's Secret, so all
 * replicas sign with the same root.
 */
import { CoreV1Api, type KubeConfig, type V1Secret } from '@kubernetes/client-node';
import type { Logger } from '@weft/telemetry';
import { CaStartError } from '../signing/ca-errors.ts';
import {
  generateSelfSignedRoot,
  pluggedFromPems,
  type RootMaterial,
  type RootOfTrustOptions,
  STATE_FILES,
  selfSignedFromPems,
} from '../signing/root-of-trust.ts';
import { apiStatus, describeApiError } from './kube-config.ts';

/** Istio's Secret for an operator-supplied ("plugged-in") CA. */
export const PLUGGED_CA_SECRET = 'cacerts';
/** Istio's Secret for the self-signed root the CA generates. */
export const SELF_SIGNED_CA_SECRET = 'istio-ca-secret';
/** The Secret type Istio gives `istio-ca-secret`. */
export const CA_SECRET_TYPE = 'istio.io/ca-root';

export interface KubeRootOptions extends Pick<RootOfTrustOptions, 'caKeyType' | 'trustDomain' | 'clock'> {
  /** The CA's own namespace, where both Secrets live. */
  namespace: string;
  logger: Logger;
}

function decoded(secret: V1Secret, key: string): string | undefined {
  const value = secret.data?.[key];
  if (value === undefined || value === '') return undefined;
  return Buffer.from(value, 'base64').toString('utf8');
}

async function readSecret(api: CoreV1Api, namespace: string, name: string): Promise<V1Secret | undefined> {
  try {
    return await api.readNamespacedSecret({ name, namespace });
  } catch (error) {
    if (apiStatus(error) === 404) return undefined;
    throw new CaStartError(
      'kube-api',
      `cannot read Secret ${namespace}/${name}: ${describeApiError(error)}`,
      {
        cause: error,
      },
    );
  }
}

function fromPluggedSecret(secret: V1Secret, options: KubeRootOptions): RootMaterial {
  const where = (file: string): string => `Secret ${options.namespace}/${PLUGGED_CA_SECRET} key ${file}`;
  const required = (file: string): string => {
    const value = decoded(secret, file);
    if (value === undefined) throw new CaStartError('plugged-ca', `${where(file)} is missing`);
    return value;
  };
  return pluggedFromPems(
    {
      caCertPem: required(STATE_FILES.caCert),
      caKeyPem: required(STATE_FILES.caKey),
      rootCertPem: required(STATE_FILES.rootCert),
      certChainPem: decoded(secret, STATE_FILES.certChain),
    },
    where,
    'plugged-ca',
    options,
  );
}

function fromSelfSignedSecret(secret: V1Secret, options: KubeRootOptions): RootMaterial {
  const name = `Secret ${options.namespace}/${SELF_SIGNED_CA_SECRET}`;
  const certPem = decoded(secret, STATE_FILES.caCert);
  const keyPem = decoded(secret, STATE_FILES.caKey);
  if (certPem === undefined || keyPem === undefined) {
    throw new CaStartError(
      'kube-api',
      `${name} lacks ${certPem === undefined ? STATE_FILES.caCert : STATE_FILES.caKey}; restore it or delete the Secret to generate a new root`,
    );
  }
  return selfSignedFromPems(
    { certPem, keyPem },
    `${name} keys ca-cert.pem and ca-key.pem`,
    'kube-api',
    options,
  );
}

/** The `istio-ca-secret` object for a root (what the CA creates). */
export function selfSignedCaSecret(namespace: string, pems: { certPem: string; keyPem: string }): V1Secret {
  const b64 = (text: string): string => Buffer.from(text).toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: SELF_SIGNED_CA_SECRET,
      namespace,
      labels: { 'app.kubernetes.io/managed-by': 'weft-ca' },
    },
    type: CA_SECRET_TYPE,
    data: {
      [STATE_FILES.caCert]: b64(pems.certPem),
      [STATE_FILES.caKey]: b64(pems.keyPem),
      [STATE_FILES.certChain]: '',
      [STATE_FILES.rootCert]: '',
    },
  };
}

/**
 * Loads the root of trust from the CA namespace's Secrets, creating
 * `istio-ca-secret` on first start. Throws `CaStartError` (`kube-api` when
 * the API server fails or a stored Secret is unusable, `plugged-ca` for a
 * bad `cacerts`). Safe to call from several replicas at once.
 */
export async function loadRootFromSecrets(
  config: KubeConfig,
  options: KubeRootOptions,
): Promise<RootMaterial> {
  const api = config.makeApiClient(CoreV1Api);
  const { namespace, logger } = options;
  const plugged = await readSecret(api, namespace, PLUGGED_CA_SECRET);
  if (plugged) {
    logger.info('using the plugged-in CA', { name: `${namespace}/${PLUGGED_CA_SECRET}` });
    return fromPluggedSecret(plugged, options);
  }
  const existing = await readSecret(api, namespace, SELF_SIGNED_CA_SECRET);
  if (existing) {
    logger.info('using the stored self-signed root', { name: `${namespace}/${SELF_SIGNED_CA_SECRET}` });
    return fromSelfSignedSecret(existing, options);
  }
  const root = await generateSelfSignedRoot(options);
  try {
    await api.createNamespacedSecret({ namespace, body: selfSignedCaSecret(namespace, root) });
    logger.info('created a self-signed root', { name: `${namespace}/${SELF_SIGNED_CA_SECRET}` });
    return selfSignedFromPems(root, 'the generated root', 'kube-api', options);
  } catch (error) {
    if (apiStatus(error) !== 409) {
      throw new CaStartError(
        'kube-api',
        `cannot create Secret ${namespace}/${SELF_SIGNED_CA_SECRET}: ${describeApiError(error)}`,
        { cause: error },
      );
    }
  }
  const winner = await readSecret(api, namespace, SELF_SIGNED_CA_SECRET);
  if (!winner) {
    throw new CaStartError(
      'kube-api',
      `Secret ${namespace}/${SELF_SIGNED_CA_SECRET} conflicted on create but cannot be read back`,
    );
  }
  logger.info('another replica created the root first; using its Secret', {
    name: `${namespace}/${SELF_SIGNED_CA_SECRET}`,
  });
  return fromSelfSignedSecret(winner, options);
}
