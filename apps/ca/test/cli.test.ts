/**
 * The `weft-ca` command as operators run it (a child Node process on the
 * TypeScript sources): help, flag errors, and `token` printing the token alone.
 */
import { spawnSync } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeJwt, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { loadTokenSigningKey } from '../src/authn/local-token.ts';
import { useTempDir } from './ca-harness.ts';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const dir = useTempDir();

function weftCa(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const out = spawnSync(process.execPath, ['--conditions=@weft/source', MAIN, ...args], {
    encoding: 'utf8',
    timeout: 15_000,
  });
  return { status: out.status, stdout: out.stdout, stderr: out.stderr };
}

describe('weft-ca', () => {
  it('documents every flag in --help', () => {
    const { status, stdout } = weftCa(['--help']);
    expect(status).toBe(0);
    for (const flag of [
      '--state-dir',
      '--grpc-addr',
      '--http-addr',
      '--trust-domain',
      '--cert-ttl',
      '--max-cert-ttl',
      '--ca-key-type',
      '--plugged-ca-dir',
      '--serving-names',
      '--kube',
      '--kubeconfig',
      '--log-level',
      '--namespace',
      '--service-account',
      '--ttl',
    ]) {
      expect(stdout).toContain(flag);
    }
  });

  it.each([
    { name: 'a missing state dir', args: [], message: '--state-dir: is required' },
    { name: 'an unknown flag', args: ['--state-dir', 'x', '--bogus'], message: "Unknown option '--bogus'" },
    {
      name: 'a bad duration',
      args: ['--state-dir', 'x', '--cert-ttl', 'soon'],
      message: '--cert-ttl: "soon" is not a duration',
    },
    {
      name: 'a bad key type',
      args: ['--state-dir', 'x', '--ca-key-type', 'dsa'],
      message: '--ca-key-type: must be ec or rsa',
    },
  ])('exits 2 on $name', ({ args, message }) => {
    const { status, stderr } = weftCa(args);
    expect(status).toBe(2);
    expect(stderr).toContain(message);
  });

  it('token prints only a verifiable token for the service account', async () => {
    const stateDir = join(dir, 'state');
    const { status, stdout, stderr } = weftCa([
      'token',
      '--state-dir',
      stateDir,
      '--namespace',
      'bookinfo',
      '--service-account',
      'reviews',
      '--ttl',
      '30m',
    ]);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const token = stdout.trim();
    const key = createPublicKey(await loadTokenSigningKey(stateDir));
    const { payload } = await jwtVerify(token, key, {
      issuer: 'weft-ca',
      audience: 'istio-ca',
      algorithms: ['ES256'],
    });
    expect(payload.sub).toBe('system:serviceaccount:bookinfo:reviews');
    expect(decodeJwt(token).exp! - decodeJwt(token).iat!).toBe(1800);
  });

  it('token refuses a bad namespace', () => {
    const { status, stderr } = weftCa([
      'token',
      '--state-dir',
      dir,
      '--namespace',
      'a/b',
      '--service-account',
      'x',
    ]);
    expect(status).toBe(2);
    expect(stderr).toContain('--namespace');
  });
});
