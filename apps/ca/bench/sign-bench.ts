/**
 * Signing benchmark (not a test): CSRs signed per second by one CA process,
 * for an EC P-256 CA with P-256 workloads and an RSA 2048 CA with RSA 2048
 * workloads.
 *
 * - `handler`: the CA's whole CreateCertificate path in process: local-token
 *   JWT verification, CSR parsing + signature check, authorization,
 *   certificate build + native signature, audit line. One request at a time.
 * - `grpc`: the same through the real gRPC/TLS server from a @weft/pki client
 *   in the same process (so client and CA share the core), 32 requests in flight.
 *
 * Each figure is the median of RUNS runs of SECONDS seconds.
 * Run: `npm run bench` in apps/ca (optional: `-- --seconds 3 --runs 3`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createCaClient, createCsr, generateKeyPair, type KeyPairOptions } from '@weft/pki';
import { createLogger, createMetrics } from '@weft/telemetry';
import {
  createLocalTokenAuthenticator,
  loadTokenSigningKey,
  mintLocalToken,
} from '../src/authn/local-token.ts';
import { createCaMetrics } from '../src/server/ca-metrics.ts';
import { createCertificateHandler } from '../src/server/create-certificate.ts';
import { openAuditLog } from '../src/signing/audit-log.ts';
import { loadRootOfTrust } from '../src/signing/root-of-trust.ts';
import { startCa } from '../src/start-ca.ts';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '3' }, runs: { type: 'string', default: '3' } },
});
const SECONDS = Number(values.seconds);
const RUNS = Number(values.runs);
const TRUST_DOMAIN = 'cluster.local';
const SPIFFE_ID = `spiffe://${TRUST_DOMAIN}/ns/bench/sa/workload`;
const silent = createLogger({ name: 'bench', level: 'error', write: () => {} });

async function csrs(key: KeyPairOptions, count: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const pair = await generateKeyPair(key);
    out.push(createCsr({ privateKeyPem: pair.privateKeyPem, spiffeId: SPIFFE_ID }));
  }
  return out;
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Runs `once` back to back (`inFlight` at a time) for SECONDS; returns completions per second. */
async function measure(once: (i: number) => Promise<unknown>, inFlight: number): Promise<number> {
  const end = performance.now() + SECONDS * 1000;
  let done = 0;
  const worker = async (offset: number): Promise<void> => {
    for (let i = offset; performance.now() < end; i += inFlight) {
      await once(i);
      done++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: inFlight }, (_, k) => worker(k)));
  return done / ((performance.now() - started) / 1000);
}

async function benchKind(label: string, caKeyType: 'ec' | 'rsa', workloadKey: KeyPairOptions): Promise<void> {
  const stateDir = mkdtempSync(join(tmpdir(), 'weft-ca-bench-'));
  try {
    const pool = await csrs(workloadKey, 64);
    const clock = Date.now;
    const root = await loadRootOfTrust({ stateDir, caKeyType, trustDomain: TRUST_DOMAIN, clock });
    const tokenKey = await loadTokenSigningKey(stateDir);
    const token = await mintLocalToken(tokenKey, {
      namespace: 'bench',
      serviceAccount: 'workload',
      ttlSeconds: 3600,
    });
    const audit = openAuditLog(join(stateDir, 'audit.log'), clock, (e) => console.error(e));
    const handle = createCertificateHandler({
      root,
      tokens: createLocalTokenAuthenticator(tokenKey, clock),
      trustDomain: TRUST_DOMAIN,
      certTtlSeconds: 86_400,
      maxCertTtlSeconds: 172_800,
      audit,
      metrics: createCaMetrics(createMetrics({ serviceName: 'bench' })),
      logger: silent,
      clock,
    });
    const authorization = `Bearer ${token}`;
    const direct: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      direct.push(
        await measure((i) => handle({ csr: pool[i % pool.length]!, validitySeconds: 0, authorization }), 1),
      );
    }
    await audit.close();

    const ca = await startCa(
      {
        stateDir,
        grpcAddr: { host: '127.0.0.1', port: 0 },
        httpAddr: { host: '127.0.0.1', port: 0 },
        trustDomain: TRUST_DOMAIN,
        certTtlSeconds: 86_400,
        maxCertTtlSeconds: 172_800,
        caKeyType,
        servingNames: [],
        kube: false,
        logLevel: 'error',
      },
      { logger: silent, metrics: createMetrics({ serviceName: 'bench' }) },
    );
    const client = createCaClient({
      address: ca.grpcAddress,
      rootCertPem: ca.rootCertPem,
      serverName: 'localhost',
      token,
    });
    await client.createCertificate(pool[0]!, 0);
    const overGrpc: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      overGrpc.push(await measure((i) => client.createCertificate(pool[i % pool.length]!, 0), 32));
    }
    client.close();
    await ca.close();
    const fmt = (xs: number[]) => `${Math.round(median(xs))}/s (runs: ${xs.map(Math.round).join(', ')})`;
    console.log(`${label.padEnd(9)} handler: ${fmt(direct)}`);
    console.log(`${label.padEnd(9)} grpc:    ${fmt(overGrpc)}`);
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
}

console.log(
  `weft-ca signing benchmark: node ${process.version}, OpenSSL ${process.versions.openssl}, ${RUNS} runs x ${SECONDS}s, medians`,
);
await benchKind('EC P-256', 'ec', { type: 'ec', curve: 'P-256' });
await benchKind('RSA 2048', 'rsa', { type: 'rsa', bits: 2048 });
