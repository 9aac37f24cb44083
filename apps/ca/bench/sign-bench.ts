/**
 * Signing benchmark (not a test): CSRs signed per second by one CA process,
 * for an EC P-256 CA with P-256 workloads and an RSA 2048 CA with RSA 2048
 * workloads.
 *
 * - `handler`: the CA's whole CreateCertificate path in this process:
 *   local-token JWT verification, CSR parsing + signature check,
 *   authorization, certificate build + native signature, audit line. One
 *   request at a time.
 * - `grpc`: the same through the real gRPC/TLS server, the CA alone in its own
 *   process (`ca-process.ts`), driven by a @weft/pki client in this process
 *   with 32 requests in flight.
 *
 * Each figure is the median of RUNS runs of SECONDS seconds, as completions
 * per wall-clock second and per CPU-second of the signing process (the latter
 * is the capacity of one dedicated core, and holds up on a busy machine).
 * Run: `npm run bench` in apps/ca (optional: `-- --seconds 3 --runs 3`).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
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

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '3' }, runs: { type: 'string', default: '3' } },
});
const SECONDS = Number(values.seconds);
const RUNS = Number(values.runs);
const TRUST_DOMAIN = 'cluster.local';
const SPIFFE_ID = `spiffe://${TRUST_DOMAIN}/ns/bench/sa/workload`;
const CA_PROCESS = fileURLToPath(new URL('./ca-process.ts', import.meta.url));
const silent = createLogger({ name: 'bench', level: 'error', write: () => {} });

interface Rate {
  /** Completions per wall-clock second. */
  wall: number;
  /** Completions per CPU-second of the measured process. */
  cpu: number;
}

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

const ownCpuMicros = async (): Promise<number> => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

/**
 * Runs `once` back to back (`inFlight` at a time) for SECONDS. `cpuMicros`
 * reads the measured process's CPU time (user + system, microseconds).
 */
async function measure(
  once: (i: number) => Promise<unknown>,
  inFlight: number,
  cpuMicros: () => Promise<number>,
): Promise<Rate> {
  const end = performance.now() + SECONDS * 1000;
  let done = 0;
  const worker = async (offset: number): Promise<void> => {
    for (let i = offset; performance.now() < end; i += inFlight) {
      await once(i);
      done++;
    }
  };
  const cpuBefore = await cpuMicros();
  const started = performance.now();
  await Promise.all(Array.from({ length: inFlight }, (_, k) => worker(k)));
  const wallSeconds = (performance.now() - started) / 1000;
  const cpuSeconds = ((await cpuMicros()) - cpuBefore) / 1e6;
  return { wall: done / wallSeconds, cpu: done / cpuSeconds };
}

/**
 * Starts `ca-process.ts` in a child Node process. `cpuMicros()` asks it for
 * its CPU time; `stop()` closes its stdin and waits for it to exit.
 */
async function startCaProcess(
  stateDir: string,
  caKeyType: 'ec' | 'rsa',
): Promise<{ grpcAddress: string; cpuMicros(): Promise<number>; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ['--conditions=@weft/source', CA_PROCESS, stateDir, caKeyType], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const nextLine = async (): Promise<string> => ((await once(lines, 'line')) as [string])[0];
  const { grpcAddress } = JSON.parse(await nextLine()) as { grpcAddress: string };
  return {
    grpcAddress,
    cpuMicros: async () => {
      const reply = nextLine();
      child.stdin.write('cpu\n');
      return (JSON.parse(await reply) as { cpuMicros: number }).cpuMicros;
    },
    stop: async () => {
      const exited = once(child, 'exit');
      child.stdin.end();
      await exited;
    },
  };
}

function format(rates: Rate[]): string {
  const wall = rates.map((r) => Math.round(r.wall));
  const cpu = rates.map((r) => Math.round(r.cpu));
  return `${median(wall)}/s wall (runs ${wall.join(', ')}); ${median(cpu)}/CPU-s (runs ${cpu.join(', ')})`;
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
    const direct: Rate[] = [];
    for (let r = 0; r < RUNS; r++) {
      const one = (i: number) => handle({ csr: pool[i % pool.length]!, validitySeconds: 0, authorization });
      direct.push(await measure(one, 1, ownCpuMicros));
    }
    await audit.close();

    const ca = await startCaProcess(stateDir, caKeyType);
    const rootCertPem = readFileSync(join(stateDir, 'root-cert.pem'), 'utf8');
    const client = createCaClient({ address: ca.grpcAddress, rootCertPem, serverName: 'localhost', token });
    await client.createCertificate(pool[0]!, 0);
    const overGrpc: Rate[] = [];
    for (let r = 0; r < RUNS; r++) {
      const one = (i: number) => client.createCertificate(pool[i % pool.length]!, 0);
      overGrpc.push(await measure(one, 32, ca.cpuMicros));
    }
    client.close();
    await ca.stop();
    console.log(`${label.padEnd(9)} handler: ${format(direct)}`);
    console.log(`${label.padEnd(9)} grpc:    ${format(overGrpc)}`);
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
}

console.log(
  `weft-ca signing benchmark: node ${process.version}, OpenSSL ${process.versions.openssl}, ${RUNS} runs x ${SECONDS}s, medians`,
);
await benchKind('EC P-256', 'ec', { type: 'ec', curve: 'P-256' });
await benchKind('RSA 2048', 'rsa', { type: 'rsa', bits: 2048 });
