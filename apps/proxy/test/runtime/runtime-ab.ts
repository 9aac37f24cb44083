/**
 * A/B of weft-proxy's runtime settings (Node/V8 flags) under the same load,
 * variants interleaved in every run so the shared machine's load hits all
 * alike. Each variant is the built dist/main.js in its own process (one
 * worker, metrics on, access log off, configured over ADS by an in-process
 * @weft/xds server) in front of an in-process node:http backend answering
 * 1 KiB; the load is its own process (runtime-load.ts). Per run and
 * variant: 1 s warm-up, `--seconds` closed loop (64 in flight over 32
 * connections: req/s and proxy CPU µs per request), `--seconds` open loop
 * at `--rate` req/s (p50/p99 from the due time, CPU µs per request, event
 * loop delay and GC pauses from runtime-probe.ts), then RSS.
 *
 * `--tls`: the listener terminates TLS (a self-signed certificate made at
 * start) and the load speaks HTTPS over keep-alive connections. A variant
 * `NAME=FLAGS@MAIN` runs another build's entry point (e.g. a copy of dist/
 * with older files) instead of dist/main.js.
 *
 * Run from the repo root, after building weft-proxy:
 *   flock /tmp/weft-bench.lock node --conditions=@weft/source apps/proxy/test/runtime/runtime-ab.ts \
 *     --variant default= --variant semi4=--max-semi-space-size=4 [--runs 3 --seconds 5 --rate 1000]
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createSelfSignedRoot, generateKeyPair, signCertificate } from '@weft/pki';
import { Agent, request } from 'undici';
import {
  filterChain,
  httpConnectionManager,
  listener,
  routeConfiguration,
  routeTo,
  staticCluster,
  virtualHost,
} from '../../src/testing/builders.ts';
import { NODE_ID, startControlPlane } from '../support/harness.ts';
import { freePort, PROXY_BIN, stopChild } from '../support/processes.ts';
import type { RuntimeLoadJob, RuntimeLoadResult } from './runtime-load.ts';

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: {
    variant: { type: 'string', multiple: true, default: ['default='] },
    runs: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '5' },
    rate: { type: 'string', default: '1000' },
    tls: { type: 'boolean', default: false },
  },
});
const RUNS = Number(args.runs);
const SECONDS = Number(args.seconds);
const RATE = Number(args.rate);
const HOST = 'svc.local';
const variants = args.variant.map((spec) => {
  const [name, rest = ''] = spec.split(/=(.*)/s);
  const [flags = '', main = PROXY_BIN] = rest.split('@');
  return { name: name!, flags: flags.split(' ').filter(Boolean), main };
});

interface Figures {
  maxRps: number;
  maxCpuUs: number;
  rateCpuUs: number;
  p50: number;
  p99: number;
  loopMaxMs: number;
  loopP99Ms: number;
  gcCount: number;
  gcMinorMs: number;
  gcMajorMs: number;
  gcMaxMs: number;
  gcOver5Ms: number;
  heapTotalMb: number;
  runQueueWaitMs: number;
  rssMb: number;
  failed: number;
}

const body = Buffer.alloc(1024, 'x');
const backend = http.createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length }).end(body);
});
await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
const plane = await startControlPlane();
let transportSocket: Record<string, unknown> | undefined;
if (args.tls) {
  const root = await createSelfSignedRoot({ subject: { commonName: 'runtime-ab' } });
  const key = await generateKeyPair({ type: 'ec' });
  const cert = signCertificate(root, { publicKey: key.publicKeyPem, dnsNames: [HOST], ttlSeconds: 3600 });
  transportSocket = {
    name: 'envoy.transport_sockets.tls',
    typedConfig: {
      '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
      commonTlsContext: {
        tlsCertificates: [
          {
            certificateChain: { inlineString: cert.certPem + root.certPem },
            privateKey: { inlineString: key.privateKeyPem },
          },
        ],
        alpnProtocols: ['http/1.1'],
      },
    },
  };
}
const chain = {
  ...filterChain(httpConnectionManager('80')),
  ...(transportSocket ? { transportSocket } : {}),
};
plane.push({
  clusters: [staticCluster('backend', [{ port: (backend.address() as AddressInfo).port }])],
  listeners: [listener('http', 0, [chain])],
  routes: [
    routeConfiguration('80', [
      virtualHost('other', ['other.local'], [routeTo('backend')]),
      virtualHost('svc', [HOST], [routeTo('backend')]),
    ]),
  ],
});
const probeDir = await mkdtemp(join(tmpdir(), 'weft-runtime-ab-'));
const load = fork(join(here, 'runtime-load.ts'));
await new Promise((resolve) => load.once('message', resolve));

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function rssMb(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

interface Proxy {
  readonly name: string;
  readonly child: ChildProcess;
  readonly port: number;
  readonly probeFile: string;
}

const scheme = args.tls ? 'https' : 'http';
const insecure = new Agent({ connect: { rejectUnauthorized: false } });

async function startVariant(name: string, flags: readonly string[], main: string): Promise<Proxy> {
  const port = await freePort();
  const admin = await freePort();
  const probeFile = join(probeDir, `${name}.jsonl`);
  const child = spawn(
    process.execPath,
    [
      ...flags,
      '--import',
      join(here, 'runtime-probe.ts'),
      main,
      '--discovery',
      plane.address,
      '--node-id',
      NODE_ID,
      '--listener',
      `http=127.0.0.1:${port}`,
      '--admin-addr',
      `127.0.0.1:${admin}`,
      '--drain-time',
      '0',
      '--log-level',
      'error',
    ],
    { stdio: 'inherit', env: { ...process.env, PROBE_OUT: probeFile } },
  );
  const deadline = Date.now() + 20_000;
  for (;;) {
    const ok = await request(`${scheme}://127.0.0.1:${port}/`, {
      headers: { host: HOST },
      dispatcher: insecure,
    }).then(
      async (r) => {
        await r.body.dump();
        return r.statusCode === 200;
      },
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`${name}: not serving after 20 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { name, child, port, probeFile };
}

function drive(job: RuntimeLoadJob): Promise<RuntimeLoadResult> {
  return new Promise((resolve, reject) => {
    load.once('message', (m: { result?: RuntimeLoadResult; error?: string }) =>
      m.result ? resolve(m.result) : reject(new Error(m.error)),
    );
    load.send(job);
  });
}

async function probe(proxy: Proxy): Promise<Record<string, number>> {
  const before = await readFile(proxy.probeFile, 'utf8').catch(() => '');
  proxy.child.kill('SIGUSR2');
  for (let i = 0; i < 100; i++) {
    const text = await readFile(proxy.probeFile, 'utf8').catch(() => '');
    if (text.length > before.length) return JSON.parse(text.trim().split('\n').at(-1)!);
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${proxy.name}: no probe line`);
}

async function measure(proxy: Proxy): Promise<Figures> {
  const pid = proxy.child.pid!;
  const job = (mode: 'max' | 'rate', seconds: number): RuntimeLoadJob => ({
    url: `${scheme}://127.0.0.1:${proxy.port}/api/items?id=1`,
    host: HOST,
    mode,
    seconds,
    connections: 32,
    inFlight: 64,
    rate: RATE,
  });
  await drive(job('max', 1));
  let cpu = cpuSeconds(pid);
  const max = await drive(job('max', SECONDS));
  const maxCpuUs = ((cpuSeconds(pid) - cpu) * 1e6) / max.requests;
  await probe(proxy); // resets the probe: what follows is the fixed-rate phase only
  cpu = cpuSeconds(pid);
  const fixed = await drive(job('rate', SECONDS));
  const rateCpuUs = ((cpuSeconds(pid) - cpu) * 1e6) / fixed.requests;
  const p = await probe(proxy);
  return {
    maxRps: max.requestsPerSecond,
    maxCpuUs,
    rateCpuUs,
    p50: fixed.p50,
    p99: fixed.p99,
    loopMaxMs: p.loopMaxMs!,
    loopP99Ms: p.loopP99Ms!,
    gcCount: p.gcCount!,
    gcMinorMs: p.gcMinorMs!,
    gcMajorMs: p.gcMajorMs!,
    gcMaxMs: p.gcMaxMs!,
    gcOver5Ms: p.gcOver5Ms!,
    heapTotalMb: p.heapTotalMb!,
    runQueueWaitMs: p.runQueueWaitMs!,
    rssMb: rssMb(pid),
    failed: max.failed + fixed.failed,
  };
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const proxies: Proxy[] = [];
try {
  for (const v of variants) proxies.push(await startVariant(v.name, v.flags, v.main));
  const samples = new Map<string, Figures[]>(proxies.map((p) => [p.name, []]));
  for (let run = 1; run <= RUNS; run++) {
    // Interleaved, and the order rotates per run so no variant always goes first.
    for (let k = 0; k < proxies.length; k++) {
      const proxy = proxies[(k + run - 1) % proxies.length]!;
      const f = await measure(proxy);
      samples.get(proxy.name)!.push(f);
      console.log(
        `run ${run} ${proxy.name}: ${JSON.stringify(f, (_k, v) => (typeof v === 'number' ? Math.round(v * 100) / 100 : v))}`,
      );
    }
  }
  const keys = Object.keys(samples.get(proxies[0]!.name)![0]!) as (keyof Figures)[];
  console.log(`\nmedians of ${RUNS} runs, ${SECONDS} s per phase, fixed rate ${RATE} req/s`);
  console.log(`| variant | ${keys.join(' | ')} |`);
  console.log(`| --- | ${keys.map(() => '---').join(' | ')} |`);
  for (const proxy of proxies) {
    const figures = samples.get(proxy.name)!;
    console.log(
      `| ${proxy.name} | ${keys.map((k) => median(figures.map((f) => f[k])).toFixed(k === 'p50' || k === 'p99' ? 2 : 1)).join(' | ')} |`,
    );
  }
} finally {
  for (const proxy of proxies) await stopChild(proxy.child);
  load.kill();
  await insecure.close();
  await plane.stop();
  backend.close();
  await rm(probeDir, { recursive: true, force: true });
}
