import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSelfSignedRoot, type FakeCa, startFakeCa } from '@weft/pki';
import { createLogger } from '@weft/telemetry';
import { afterEach, describe, expect, it } from 'vitest';
import { type IdentityAgent, type IdentityAgentOptions, startIdentityAgent } from './identity-agent.ts';

const TOKEN = 'token-of-reviews-never-logged';

interface Fixture {
  ca: FakeCa;
  dir: string;
  logs: string[];
  options: IdentityAgentOptions;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function fixture(
  overrides: Partial<IdentityAgentOptions> = {},
  maxTtlSeconds = 3600,
): Promise<Fixture> {
  const ca = await startFakeCa({
    tokens: { [TOKEN]: { namespace: 'default', serviceAccount: 'reviews' } },
    maxTtlSeconds,
  });
  const dir = await mkdtemp(join(tmpdir(), 'weft-agent-'));
  cleanups.push(
    () => ca.close(),
    () => rm(dir, { recursive: true, force: true }),
  );
  await writeFile(join(dir, 'token'), `${TOKEN}\n`);
  await writeFile(join(dir, 'root.pem'), ca.rootCertPem);
  const logs: string[] = [];
  const options: IdentityAgentOptions = {
    caAddress: ca.address,
    tokenFile: join(dir, 'token'),
    caRootFile: join(dir, 'root.pem'),
    trustDomain: 'cluster.local',
    namespace: 'default',
    serviceAccount: 'reviews',
    certTtlSeconds: 3600,
    logger: createLogger({ name: 'agent-test', level: 'debug', write: (l) => logs.push(l) }),
    initialBackoffMs: 50,
    maxBackoffMs: 200,
    rootPollMs: 50,
    ...overrides,
  };
  return { ca, dir, logs, options };
}

function start(options: IdentityAgentOptions): IdentityAgent {
  const agent = startIdentityAgent(options);
  cleanups.push(() => agent.stop());
  return agent;
}

async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('identity agent', () => {
  it('gets a certificate for its SPIFFE ID signed by the CA, with the key kept in process', async () => {
    const { ca, options, logs } = await fixture();
    const agent = start(options);
    await agent.ready();
    const cert = agent.secrets.certificate()!;
    expect(cert.spiffeId).toBe('spiffe://cluster.local/ns/default/sa/reviews');
    const leaf = new X509Certificate(cert.certChainPem);
    expect(leaf.subjectAltName).toContain('URI:spiffe://cluster.local/ns/default/sa/reviews');
    expect(leaf.verify(new X509Certificate(ca.rootCertPem).publicKey)).toBe(true);
    expect(
      leaf.checkPrivateKey(await import('node:crypto').then((c) => c.createPrivateKey(cert.privateKeyPem))),
    ).toBe(true);
    expect(agent.secrets.trustBundle()).toBe(ca.rootCertPem);
    expect(ca.calls.at(-1)).toMatchObject({ validitySeconds: 3600, status: 0 });
    expect(logs.join('')).not.toContain(TOKEN);
    expect(logs.join('')).not.toContain('PRIVATE KEY');
  });

  it('renews at about half the lifetime with a fresh key', async () => {
    const { options } = await fixture({ certTtlSeconds: 2 }, 2);
    const agent = start(options);
    await agent.ready();
    const first = agent.secrets.certificate()!;
    await until(() => agent.issued >= 2, 'a renewal', 4000);
    const second = agent.secrets.certificate()!;
    expect(second.privateKeyPem).not.toBe(first.privateKeyPem);
    expect(second.notAfter.getTime()).toBeGreaterThan(first.notAfter.getTime());
  });

  it('keeps the valid certificate and retries with backoff when the CA refuses', async () => {
    const { options, logs, dir, ca } = await fixture({ certTtlSeconds: 2 }, 2);
    const agent = start(options);
    await agent.ready();
    const kept = agent.secrets.certificate();
    await writeFile(join(dir, 'token'), 'a-token-the-ca-does-not-know');
    await until(() => logs.filter((l) => l.includes('certificate request failed')).length >= 2, 'retries');
    expect(agent.secrets.certificate()).toBe(kept);
    expect(logs.join('')).toContain('"code":"ca-failed"');
    expect(logs.join('')).not.toContain('a-token-the-ca-does-not-know');
    await writeFile(join(dir, 'token'), TOKEN);
    const before = agent.issued;
    await until(() => agent.issued > before, 'recovery after the token is fixed');
    expect(ca.calls.some((c) => c.status !== 0)).toBe(true);
  });

  it('picks up a changed trust bundle file and signals the change', async () => {
    const { options, dir, ca } = await fixture();
    const agent = start(options);
    await agent.ready();
    const names: string[] = [];
    agent.secrets.onChange((name) => names.push(name));
    const other = await createSelfSignedRoot({ subject: { commonName: 'other root' } });
    await writeFile(join(dir, 'root.pem'), `${ca.rootCertPem.trim()}\n${other.certPem}`);
    await until(() => names.includes('ROOTCA'), 'the ROOTCA change');
    expect(agent.secrets.trustBundle()).toContain(other.certPem.trim());
  });
});
