/**
 * Issuing over the Istio CA API, with OpenSSL as the judge and a Node TLS
 * handshake between two workloads as the proof the certificates work.
 */

import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { connect, createServer } from 'node:tls';
import { spiffeIdOf } from '@weft/pki';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  openssl,
  opensslCsr,
  spiffeId,
  startTestCa,
  type TestCa,
  useTempDir,
  workloadCsr,
  writeTemp,
} from './ca-harness.ts';

const dir = useTempDir();
let t: TestCa;

beforeAll(async () => {
  t = await startTestCa(join(dir, 'state'));
});

describe('CreateCertificate', () => {
  it.each([
    { name: 'EC P-256', rsa: false, usage: 'Digital Signature, Key Agreement' },
    { name: 'RSA 2048', rsa: true, usage: 'Digital Signature, Key Encipherment' },
  ])('signs an openssl req CSR ($name) that openssl verify accepts', async ({ rsa, usage, name }) => {
    const id = spiffeId('a', 'x');
    const { csrPem } = opensslCsr(dir, `URI:${id}`, rsa);
    const chain = await t.request(csrPem, { token: await t.token('a', 'x') });
    expect(chain).toHaveLength(2);
    expect(chain[1]).toBe(readFileSync(join(t.stateDir, 'root-cert.pem'), 'utf8'));
    const leafPath = writeTemp(dir, `leaf-${name}.pem`, chain[0]!);
    const rootPath = join(t.stateDir, 'root-cert.pem');
    expect(openssl(['verify', '-CAfile', rootPath, leafPath]).trim()).toBe(`${leafPath}: OK`);
    const text = openssl(['x509', '-in', leafPath, '-noout', '-text']);
    expect(text).toMatch(
      new RegExp(`X509v3 Subject Alternative Name: critical\\s+URI:${id.replace(/\./g, '\\.')}\\n`),
    );
    expect(text).toMatch(new RegExp(`X509v3 Key Usage: critical\\s+${usage}\\n`));
    expect(text).toMatch(
      /X509v3 Extended Key Usage: \s+TLS Web Server Authentication, TLS Web Client Authentication/,
    );
    expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:FALSE/);
  });

  it('uses the default TTL for 0, honours shorter requests and caps at the max TTL', async () => {
    const token = await t.token('a', 'x');
    const lifetime = async (validity: number): Promise<number> => {
      const chain = await t.request((await workloadCsr(spiffeId('a', 'x'))).csrPem, { token }, validity);
      const cert = new X509Certificate(chain[0]!);
      return (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 1000;
    };
    const backdate = 60;
    expect(await lifetime(0)).toBe(3600 + backdate);
    expect(await lifetime(600)).toBe(600 + backdate);
    expect(await lifetime(90 * 86_400)).toBe(7200 + backdate);
  });

  it('writes an audit line per certificate, without keys or tokens', async () => {
    const token = await t.token('audit', 'me');
    const { csrPem } = await workloadCsr(spiffeId('audit', 'me'));
    const chain = await t.request(csrPem, { token });
    const serial = new X509Certificate(chain[0]!).serialNumber.toLowerCase();
    await expect
      .poll(() => readFileSync(join(t.stateDir, 'audit.log'), 'utf8'), { timeout: 2000 })
      .toContain(serial);
    const line = readFileSync(join(t.stateDir, 'audit.log'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .find((l) => l.serial === serial);
    expect(line).toMatchObject({
      event: 'certificate-issued',
      spiffeId: spiffeId('audit', 'me'),
      keyType: 'EC P-256',
      caller: { method: 'local-token', subject: 'system:serviceaccount:audit:me' },
    });
    expect(line.notAfter).toBe(new Date(new X509Certificate(chain[0]!).validTo).toISOString());
    const all = readFileSync(join(t.stateDir, 'audit.log'), 'utf8') + t.logs.join('');
    expect(all).not.toContain(token);
    expect(all).not.toContain('PRIVATE KEY');
    expect(statSync(join(t.stateDir, 'audit.log')).mode & 0o777).toBe(0o600);
  });

  it('serves the trust bundle at /root-cert and reports ready', async () => {
    const rootCert = await fetch(`${t.ca.httpUrl}/root-cert`);
    expect(rootCert.status).toBe(200);
    expect(await rootCert.text()).toBe(readFileSync(join(t.stateDir, 'root-cert.pem'), 'utf8'));
    expect((await fetch(`${t.ca.httpUrl}/ready`)).status).toBe(200);
    expect((await fetch(`${t.ca.httpUrl}/nope`)).status).toBe(404);
  });

  it('counts received and issued CSRs and signing latency in /metrics', async () => {
    const text = await (await fetch(`${t.ca.httpUrl}/metrics`)).text();
    expect(text).toMatch(/weft_ca_csr_received_total\S* [1-9]/);
    expect(text).toMatch(/weft_ca_certificates_issued_total\S* [1-9]/);
    expect(text).toMatch(/weft_ca_signing_duration_seconds_count\S* [1-9]/);
  });
});

describe('two workloads with certificates from the CA', () => {
  it('complete a Node tls mTLS handshake and each sees the peer SPIFFE ID', async () => {
    const serverId = spiffeId('shop', 'cart');
    const clientId = spiffeId('shop', 'frontend');
    const issue = async (ns: string, sa: string, id: string) => {
      const { keyPem, csrPem } = await workloadCsr(id);
      const chain = await t.request(csrPem, { token: await t.token(ns, sa) });
      return { key: keyPem, cert: chain.slice(0, -1).join(''), ca: chain.at(-1)! };
    };
    const server = await issue('shop', 'cart', serverId);
    const client = await issue('shop', 'frontend', clientId);
    let serverSaw: string | undefined;
    const tlsServer = createServer({ ...server, requestCert: true, rejectUnauthorized: true }, (socket) => {
      serverSaw = spiffeIdOf(socket.getPeerCertificate().raw);
      socket.end('ok');
    });
    tlsServer.listen(0, '127.0.0.1');
    await once(tlsServer, 'listening');
    try {
      const socket = connect({
        ...client,
        host: '127.0.0.1',
        port: (tlsServer.address() as AddressInfo).port,
        checkServerIdentity: (_host, cert) =>
          spiffeIdOf(cert.raw) === serverId ? undefined : new Error('unexpected peer'),
      });
      await once(socket, 'secureConnect');
      expect(socket.authorized).toBe(true);
      expect(spiffeIdOf(socket.getPeerCertificate().raw)).toBe(serverId);
      const [data] = await once(socket, 'data');
      expect(String(data)).toBe('ok');
      expect(serverSaw).toBe(clientId);
      socket.destroy();
    } finally {
      tlsServer.close();
    }
  });
});
