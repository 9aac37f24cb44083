/**
 * The CA under benchmark, in its own process: starts a CA on an ephemeral
 * loopback port for the state dir and key type given as arguments, prints
 * `{ grpcAddress }` as one JSON line on stdout, answers each `cpu` line on
 * stdin with `{ cpuMicros }` (user + system CPU time used so far), and stops
 * when stdin closes.
 */
import { createInterface } from 'node:readline';
import { createLogger, createMetrics } from '@weft/telemetry';
import { startCa } from '../src/start-ca.ts';

const [stateDir, caKeyType] = process.argv.slice(2) as [string, 'ec' | 'rsa'];
const ca = await startCa(
  {
    stateDir,
    grpcAddr: { host: '127.0.0.1', port: 0 },
    httpAddr: { host: '127.0.0.1', port: 0 },
    trustDomain: 'cluster.local',
    certTtlSeconds: 86_400,
    maxCertTtlSeconds: 172_800,
    caKeyType,
    servingNames: [],
    kube: false,
    logLevel: 'error',
  },
  {
    logger: createLogger({ name: 'bench-ca', level: 'error' }),
    metrics: createMetrics({ serviceName: 'bench' }),
  },
);
process.stdout.write(`${JSON.stringify({ grpcAddress: ca.grpcAddress })}\n`);
const input = createInterface({ input: process.stdin });
input.on('line', (line) => {
  if (line.trim() !== 'cpu') return;
  const { user, system } = process.cpuUsage();
  process.stdout.write(`${JSON.stringify({ cpuMicros: user + system })}\n`);
});
input.on('close', () => {
  void ca.close().then(() => process.exit(0));
});
