/**
 * --kube root storage: the CA keeps its root in Secret `istio-ca-secret` (or
 * uses an operator's `cacerts`) in its namespace, through the real
 * @kubernetes/client-node talking to the Kubernetes API double.
 */
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { createIntermediate, createSelfSignedRoot } from '@weft/pki';
import { createLogger, createMetrics } from '@weft/telemetry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaStartError } from '../src/signing/ca-errors.ts';
import { startCa } from '../src/start-ca.ts';
import { caOptions, spiffeId, startTestCa, useTempDir, workloadCsr } from './ca-harness.ts';
import { type KubeApiDouble, type KubeObject, startKubeApiDouble } from './kube-api-double.ts';

const dir = useTempDir();
let api: KubeApiDouble;
let stateDirs = 0;

/** Each start is a fresh pod: a new, empty state dir. */
function freshStateDir(): string {
  stateDirs += 1;
  return join(dir, `state-${stateDirs}`);
}

function kubeOptions(namespace: string) {
  return { kube: true, kubeconfig: api.kubeconfig, kubeNamespace: namespace };
}

function secretText(secret: KubeObject | undefined, key: string): string {
  const data = (secret?.data ?? {}) as Record<string, string>;
  return Buffer.from(data[key] ?? '', 'base64').toString('utf8');
}

function b64(text: string): string {
  return Buffer.from(text).toString('base64');
}

/** startCa's rejection; fails the test if it starts. */
async function startFailure(namespace: string): Promise<CaStartError> {
  const started = startCa(caOptions(freshStateDir(), kubeOptions(namespace)), {
    logger: createLogger({ name: 'weft-ca', level: 'error', write: () => {} }),
    metrics: createMetrics({ serviceName: 'weft-ca' }),
  });
  const error = await started.then(
    async (ca) => {
      await ca.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  if (!(error instanceof CaStartError)) throw new Error(`expected a CaStartError, got ${String(error)}`);
  return error;
}

beforeAll(async () => {
  api = await startKubeApiDouble(dir);
  api.tokens.set('token-a-x', { username: 'system:serviceaccount:a:x' });
});

afterAll(() => api.close());

describe('self-signed root in Secret istio-ca-secret', () => {
  it('is created on first start with Istio keys and type, and reused by a restarted pod', async () => {
    api.addNamespace('ca-restart');
    const first = await startTestCa(freshStateDir(), kubeOptions('ca-restart'));
    const secret = api.get('secrets', 'ca-restart', 'istio-ca-secret');
    expect(secret?.type).toBe('istio.io/ca-root');
    expect(Object.keys(secret?.data as object).sort()).toEqual([
      'ca-cert.pem',
      'ca-key.pem',
      'cert-chain.pem',
      'root-cert.pem',
    ]);
    expect(secretText(secret, 'ca-cert.pem')).toBe(first.ca.rootCertPem);
    expect(secretText(secret, 'ca-key.pem')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    await first.ca.close();

    const second = await startTestCa(freshStateDir(), kubeOptions('ca-restart'));
    expect(second.ca.rootCertPem).toBe(first.ca.rootCertPem);
    const chain = await second.request((await workloadCsr(spiffeId('a', 'x'))).csrPem, {
      token: 'token-a-x',
    });
    expect(chain.at(-1)).toBe(first.ca.rootCertPem);
    expect(new X509Certificate(chain[0]!).verify(new X509Certificate(first.ca.rootCertPem).publicKey)).toBe(
      true,
    );
  });

  it('two replicas starting together both sign with the root that won the create race', async () => {
    api.addNamespace('ca-race');
    api.holdSecretCreates(2);
    const [a, b] = await Promise.all([
      startTestCa(freshStateDir(), kubeOptions('ca-race')),
      startTestCa(freshStateDir(), kubeOptions('ca-race')),
    ]);
    expect(a.ca.rootCertPem).toBe(b.ca.rootCertPem);
    expect(secretText(api.get('secrets', 'ca-race', 'istio-ca-secret'), 'ca-cert.pem')).toBe(
      a.ca.rootCertPem,
    );
    const lost = [...a.logs, ...b.logs].filter((line) =>
      line.includes('another replica created the root first'),
    );
    expect(lost).toHaveLength(1);
    expect(api.requests.filter((r) => r === 'POST /api/v1/namespaces/ca-race/secrets')).toHaveLength(2);
  });

  it.each([
    {
      name: 'without ca-key.pem',
      namespace: 'ca-bad-nokey',
      data: (cert: string) => ({ 'ca-cert.pem': b64(cert) }),
      message: /lacks ca-key.pem/,
    },
    {
      name: 'with a key that does not match',
      namespace: 'ca-bad-mismatch',
      data: (cert: string, otherKey: string) => ({ 'ca-cert.pem': b64(cert), 'ca-key.pem': b64(otherKey) }),
      message: /keys ca-cert.pem and ca-key.pem are not a usable CA pair/,
    },
  ])(
    'refuses to start from a stored Secret $name and leaves it untouched',
    async ({ namespace, data, message }) => {
      api.addNamespace(namespace);
      const [one, two] = await Promise.all([
        createSelfSignedRoot({ subject: { commonName: 'one' } }),
        createSelfSignedRoot({ subject: { commonName: 'two' } }),
      ]);
      const stored = api.put('secrets', {
        metadata: { name: 'istio-ca-secret', namespace },
        data: data(one.certPem, two.keyPem),
      });
      const error = await startFailure(namespace);
      expect(error.code).toBe('kube-api');
      expect(error.message).toMatch(`Secret ${namespace}/istio-ca-secret`);
      expect(error.message).toMatch(message);
      expect(api.get('secrets', namespace, 'istio-ca-secret')).toEqual(stored);
    },
  );

  it('fails to start with kube-api when the API server answers an error, naming the Secret', async () => {
    api.addNamespace('ca-down');
    api.failNext('GET', /\/namespaces\/ca-down\/secrets\/cacerts$/, 503);
    const error = await startFailure('ca-down');
    expect(error.code).toBe('kube-api');
    expect(error.message).toBe('cannot read Secret ca-down/cacerts: HTTP 503: injected failure');
  });
});

describe('plugged-in CA from Secret cacerts', () => {
  async function cacerts(namespace: string, omit?: string) {
    const root = await createSelfSignedRoot({ subject: { organization: 'corp', commonName: 'Corp Root' } });
    const intermediate = await createIntermediate({
      ca: root,
      subject: { organization: 'corp', commonName: 'Mesh Intermediate' },
    });
    const data: Record<string, string> = {
      'ca-cert.pem': b64(intermediate.certPem),
      'ca-key.pem': b64(intermediate.keyPem),
      'root-cert.pem': b64(root.certPem),
      'cert-chain.pem': b64(intermediate.certPem + root.certPem),
    };
    if (omit) delete data[omit];
    api.addNamespace(namespace);
    api.put('secrets', { metadata: { name: 'cacerts', namespace }, data });
    return { root, intermediate };
  }

  it('wins over istio-ca-secret: chains are leaf, intermediate, root, and no Secret is created', async () => {
    const { root } = await cacerts('ca-plugged');
    const t = await startTestCa(freshStateDir(), kubeOptions('ca-plugged'));
    expect(t.ca.mode).toBe('plugged');
    expect(t.ca.rootCertPem).toBe(new X509Certificate(root.certPem).toString());
    const chain = await t.request((await workloadCsr(spiffeId('a', 'x'))).csrPem, { token: 'token-a-x' });
    expect(chain.slice(1).map((pem) => new X509Certificate(pem).subject)).toEqual([
      'O=corp\nCN=Mesh Intermediate',
      'O=corp\nCN=Corp Root',
    ]);
    expect(api.get('secrets', 'ca-plugged', 'istio-ca-secret')).toBeUndefined();
  });

  it.each(['ca-cert.pem', 'ca-key.pem', 'root-cert.pem'])(
    'refuses a cacerts Secret without %s',
    async (file) => {
      const namespace = `ca-missing-${file.replace('.pem', '')}`;
      await cacerts(namespace, file);
      const error = await startFailure(namespace);
      expect(error.code).toBe('plugged-ca');
      expect(error.message).toBe(`Secret ${namespace}/cacerts key ${file} is missing`);
    },
  );
});
