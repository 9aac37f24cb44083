/**
 * Imports the built package by name, as a user outside the repo would: a plain
 * Node process with default export conditions resolves `dist/`, not `src/`,
 * and must find the shipped `proto/istio-ca.proto`.
 */
import { execFileSync } from 'node:child_process';
import { expect, it } from 'vitest';

it('is importable by name from its build output and loads the Istio CA proto', () => {
  const script = `
    const m = await import('@weft/pki');
    const url = import.meta.resolve('@weft/pki');
    const service = m.loadIstioCertificateService().service;
    const kp = await m.generateKeyPair({ type: 'ec' });
    const csr = m.parseCsr(m.createCsr({ privateKeyPem: kp.privateKeyPem, spiffeId: 'spiffe://td/ns/a/sa/b' }));
    console.log(JSON.stringify({
      url,
      exports: Object.keys(m).sort(),
      methods: Object.values(service).map((d) => d.path),
      csrUris: csr.ok ? csr.csr.subjectAltNames.uris : csr.problems,
    }));
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  const { url, exports, methods, csrUris } = JSON.parse(out);
  expect(url).toMatch(/\/packages\/pki\/dist\/index\.js$/);
  expect(methods).toEqual(['/istio.v1.auth.IstioCertificateService/CreateCertificate']);
  expect(csrUris).toEqual(['spiffe://td/ns/a/sa/b']);
  expect(exports).toEqual([
    'CaClientError',
    'ISTIO_CERTIFICATE_SERVICE',
    'PkiError',
    'buildChain',
    'createCaClient',
    'createCertificateSigner',
    'createCsr',
    'createIntermediate',
    'createRotationClock',
    'createSelfSignedRoot',
    'createTrustBundle',
    'describeKeySpec',
    'formatProblems',
    'formatSpiffeId',
    'generateKeyPair',
    'istioCaProtoPath',
    'loadIstioCertificateService',
    'parseCertificates',
    'parseCsr',
    'parseSpiffeId',
    'parseWorkloadId',
    'signCertificate',
    'spiffeIdOf',
    'splitPemCertificates',
    'startFakeCa',
    'validateRotationOptions',
    'validateTrustDomain',
    'validateWorkloadIdentity',
    'verifyChain',
  ]);
});
