/**
 * The cost of mesh mTLS between two weft-proxy processes, with and without
 * mTLS in the same run: the built weft-ca, weft-discovery and weft-proxy
 * binaries (mesh-fixture.ts), one server proxy serving two ports of one
 * workload (`reviews` with `tlsMode: istio`: mTLS; `ratings` labelled
 * `tlsMode: disabled`: plaintext; PeerAuthentication PERMISSIVE), one
 * client proxy, and a closed-loop undici client (16 keep-alive connections)
 * from this process. Phases alternate plain/mTLS; each reports req/s,
 * latency p50/p99 and both proxies' CPU per request (from /proc).
 *
 *   node --conditions=@weft/source test/security/mtls-cost-bench.ts [seconds-per-phase] [rounds]
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { createMeshConfigDir, eventually, freePort, startDiscoveryProcess } from '../support/processes.ts';
import {
  istioObject,
  type MeshProxy,
  reviewsService,
  SERVER_IP,
  SERVICE_HOST,
  SERVICE_PORT,
  startCaProcess,
  startMeshProxy,
  startServerApp,
  writeConfig,
} from './mesh-fixture.ts';

const PLAIN_HOST = 'ratings.default.svc.cluster.local';
const PLAIN_PORT = 9081;
const seconds = Number(process.argv[2] ?? 5);
const rounds = Number(process.argv[3] ?? 3);

/** utime+stime of a process in microseconds (Linux /proc, 100 ticks/s). */
async function cpuMicros(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

async function phase(pool: Pool, host: string, proxies: MeshProxy[]) {
  const latencies: number[] = [];
  const cpuBefore = await Promise.all(proxies.map((p) => cpuMicros(p.child.pid!)));
  const until = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (performance.now() < until) {
        const t0 = performance.now();
        const response = await pool.request({ path: '/bench', method: 'GET', headers: { host } });
        await response.body.text();
        if (response.statusCode !== 200) throw new Error(`status ${response.statusCode}`);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const cpuAfter = await Promise.all(proxies.map((p) => cpuMicros(p.child.pid!)));
  const cpu = cpuAfter.reduce((s, v, i) => s + v - cpuBefore[i]!, 0);
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  return {
    reqPerS: Math.round(latencies.length / elapsed),
    p50Ms: Number(at(0.5).toFixed(2)),
    p99Ms: Number(at(0.99).toFixed(2)),
    proxiesCpuUsPerReq: Math.round(cpu / latencies.length),
  };
}

const workDir = await mkdtemp(join(tmpdir(), 'weft-mtls-bench-'));
const ca = await startCaProcess(['--cert-ttl', '1h']);
const config = await createMeshConfigDir();
const mtlsPort = await freePort(SERVER_IP);
const plainPort = await freePort(SERVER_IP);
await writeConfig(config.dir, 'services.yaml', [
  ...reviewsService(mtlsPort),
  istioObject('ServiceEntry', 'ratings', {
    hosts: [PLAIN_HOST],
    location: 'MESH_INTERNAL',
    resolution: 'STATIC',
    ports: [{ number: PLAIN_PORT, name: 'http', protocol: 'HTTP', targetPort: plainPort }],
    workloadSelector: { labels: { app: 'ratings' } },
  }),
  istioObject('WorkloadEntry', 'ratings-on-reviews', {
    address: SERVER_IP,
    ports: { http: plainPort },
    serviceAccount: 'reviews',
    labels: { app: 'ratings', 'security.istio.io/tlsMode': 'disabled' },
  }),
  istioObject('PeerAuthentication', 'default', { mtls: { mode: 'PERMISSIVE' } }),
]);
const discovery = await startDiscoveryProcess(config.dir);
const apps = [await startServerApp(mtlsPort), await startServerApp(plainPort)];
const common = { discovery: discovery.xdsAddress, ca, workDir } as const;
const server = await startMeshProxy({
  ...common,
  workload: 'reviews-v1',
  namespace: 'default',
  serviceAccount: 'reviews',
  ip: SERVER_IP,
  extraArgs: ['--metadata', 'LOCAL_APP_ADDRESS=127.0.1.2', '--log-level', 'warn'],
});
const plainListenerPort = await freePort();
const client = await startMeshProxy({
  ...common,
  workload: 'productpage-v1',
  namespace: 'default',
  serviceAccount: 'productpage',
  ip: '127.0.0.3',
  outbound: true,
  extraArgs: ['--listener', `0.0.0.0_${PLAIN_PORT}=127.0.0.1:${plainListenerPort}`, '--log-level', 'warn'],
});
const mtlsPool = new Pool(`http://127.0.0.1:${client.outboundPort}`, { connections: 16 });
const plainPool = new Pool(`http://127.0.0.1:${plainListenerPort}`, { connections: 16 });
const mtlsHost = `${SERVICE_HOST}:${SERVICE_PORT}`;
const plainHost = `${PLAIN_HOST}:${PLAIN_PORT}`;
const ok = (pool: Pool, host: string) => async () =>
  (await pool.request({ path: '/warm', method: 'GET', headers: { host } }).then(async (r) => {
    await r.body.text();
    return r.statusCode;
  })) === 200;
await eventually('mTLS path', ok(mtlsPool, mtlsHost), 15_000);
await eventually('plaintext path', ok(plainPool, plainHost), 15_000);
// The plaintext port must really be plaintext: its requests carry no XFCC (no verified client).
await phase(plainPool, plainHost, [client, server]);
await phase(mtlsPool, mtlsHost, [client, server]);
for (let round = 1; round <= rounds; round++) {
  const plain = await phase(plainPool, plainHost, [client, server]);
  const mtls = await phase(mtlsPool, mtlsHost, [client, server]);
  process.stdout.write(`${JSON.stringify({ round, plain, mtls })}\n`);
}
const lastPlain = apps[1]!.seen.at(-1)?.headers['x-forwarded-client-cert'];
const lastMtls = apps[0]!.seen.at(-1)?.headers['x-forwarded-client-cert'];
process.stdout.write(`${JSON.stringify({ plainXfcc: lastPlain ?? null, mtlsXfcc: lastMtls ?? null })}\n`);
await mtlsPool.close();
await plainPool.close();
await client.stop();
await server.stop();
for (const app of apps) await app.close();
await discovery.stop();
await ca.stop();
await config.cleanup();
await rm(workDir, { recursive: true, force: true });
