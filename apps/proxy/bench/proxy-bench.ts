/**
 * `npm run bench:proxy`: one command, one run, side by side: the same load
 * straight to a node:http backend ("direct"), through weft-proxy with one
 * worker and with two (the built binary, configured over ADS by an
 * in-process @weft/xds server: a listener, a route table with a header
 * match, a static cluster; metrics on), and through HAProxy with
 * `nbthread 1` and an equivalent ACL (installed with apt-get when missing
 * and running as root, else skipped).
 *
 * HTTP/1.1 keep-alive, GET, 1 KiB response bodies. Per target and run:
 * - max: closed loop, 64 in flight over 32 connections: req/s and the
 *   target's CPU µs per request (utime + stime of its process tree, /proc);
 * - fixed: open loop at 1000 req/s: latency p50/p90/p99 from each request's
 *   due time, CPU µs per request, RSS.
 * Prints medians over the runs (default 3; `--runs N --seconds S`) and
 * ratios to HAProxy, and one JSON line with every figure.
 *
 * Run from the repo root: npm run bench:proxy [-- --runs 5 --seconds 5]
 * `--cpu-prof DIR` runs the single-worker weft-proxy with --cpu-prof.
 */
import { type ChildProcess, execFileSync, fork, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import {
  CLUSTER_TYPE_URL,
  createAdsServer,
  createSnapshot,
  createSnapshotCache,
  ENDPOINT_TYPE_URL,
  LISTENER_TYPE_URL,
  ROUTE_TYPE_URL,
  resourceFromBody,
} from '@weft/xds';
import { request } from 'undici';
import {
  filterChain,
  httpConnectionManager,
  listener,
  routeConfiguration,
  routeTo,
  staticCluster,
  virtualHost,
} from '../src/testing/builders.ts';
import type { LoadJob, LoadResult } from './load-child.ts';
import { treeCpuSeconds, treeRssMb } from './proc-stats.ts';

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '3' },
    rate: { type: 'string', default: '1000' },
    'cpu-prof': { type: 'string' },
  },
});
const RUNS = Number(args.runs);
const SECONDS = Number(args.seconds);
const RATE = Number(args.rate);
const NODE_ID = 'sidecar~127.0.0.1~bench.default~default.svc.cluster.local';
const HOST = 'svc.local';
const PATH = '/api/items?id=1';

interface Target {
  readonly name: string;
  readonly port: number;
  /** Process whose tree is measured (undefined for direct: the backend is not the proxy). */
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

interface Sample {
  maxRps: number;
  maxCpuUs: number;
  rateCpuUs: number;
  p50: number;
  p90: number;
  p99: number;
  rssMb: number;
  errors: number;
}

async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

function message<T>(child: ChildProcess, key: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: Record<string, unknown>) => {
      if (key in m) {
        child.off('message', onMessage);
        resolve(m[key] as T);
      } else if ('error' in m) {
        child.off('message', onMessage);
        reject(new Error(String(m.error)));
      }
    };
    child.on('message', onMessage);
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function startControlPlane(backendPort: number): Promise<{ address: string; stop(): void }> {
  const cache = createSnapshotCache();
  const ads = createAdsServer({ cache });
  const server = new grpc.Server();
  ads.addToServer(server);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  cache.setSnapshot(
    NODE_ID,
    createSnapshot({
      [CLUSTER_TYPE_URL]: [
        resourceFromBody(CLUSTER_TYPE_URL, staticCluster('backend', [{ port: backendPort }])),
      ],
      [ENDPOINT_TYPE_URL]: [],
      [LISTENER_TYPE_URL]: [
        resourceFromBody(
          LISTENER_TYPE_URL,
          listener('http', 8080, [filterChain(httpConnectionManager('80'))]),
        ),
      ],
      [ROUTE_TYPE_URL]: [
        resourceFromBody(
          ROUTE_TYPE_URL,
          routeConfiguration('80', [
            virtualHost('other', ['other.local'], [routeTo('backend')]),
            virtualHost(
              'backend',
              [HOST, `${HOST}:*`],
              [
                routeTo('backend', { prefix: '/api/', headers: [{ name: 'x-canary', presentMatch: true }] }),
                routeTo('backend'),
              ],
            ),
          ]),
        ),
      ],
    }),
  );
  return {
    address: `127.0.0.1:${port}`,
    stop: () => {
      ads.close();
      server.forceShutdown();
    },
  };
}

async function startWeft(
  name: string,
  discovery: string,
  workers: number,
  profileDir?: string,
): Promise<Target> {
  const port = await freePort();
  const admin = await freePort();
  const bin = join(here, '..', 'dist', 'main.js');
  const child = spawn(
    process.execPath,
    [
      ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
      bin,
      '--discovery',
      discovery,
      '--node-id',
      NODE_ID,
      '--listener',
      `http=127.0.0.1:${port}`,
      '--admin-addr',
      `127.0.0.1:${admin}`,
      '--concurrency',
      String(workers),
      '--drain-time',
      '0',
      '--log-level',
      'error',
    ],
    { stdio: 'ignore' },
  );
  await until(`${name} ready`, async () => {
    const response = await request(`http://127.0.0.1:${admin}/ready`);
    await response.body.dump();
    return response.statusCode === 200;
  });
  return { name, port, pid: child.pid, stop: () => stopChild(child) };
}

function haproxyBinary(): string | undefined {
  const find = () => {
    try {
      return execFileSync('sh', ['-c', 'command -v haproxy'], { encoding: 'utf8' }).trim() || undefined;
    } catch {
      return undefined;
    }
  };
  const found = find();
  if (found) return found;
  if (process.getuid?.() !== 0) {
    console.log(
      'haproxy: not installed and not root; skipping it (apt-get install -y haproxy to include it)',
    );
    return undefined;
  }
  console.log('haproxy: installing with apt-get ...');
  try {
    execFileSync(
      'sh',
      ['-c', 'apt-get install -y haproxy || (apt-get update && apt-get install -y haproxy)'],
      {
        stdio: 'ignore',
      },
    );
  } catch {
    console.log('haproxy: apt-get install failed; skipping it');
    return undefined;
  }
  return find();
}

async function startHaproxy(binary: string, backendPort: number): Promise<Target> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'weft-bench-haproxy-'));
  const config = join(dir, 'haproxy.cfg');
  // The same work as weft-proxy's route table: a Host match and a header match, keep-alive both sides.
  writeFileSync(
    config,
    [
      'global',
      '  nbthread 1',
      '  maxconn 4096',
      'defaults',
      '  mode http',
      '  timeout connect 5s',
      '  timeout client 60s',
      '  timeout server 60s',
      '  option http-keep-alive',
      'frontend bench',
      `  bind 127.0.0.1:${port}`,
      `  acl svc hdr_dom(host) -i ${HOST}`,
      '  acl api path_beg /api/',
      '  acl canary req.hdr(x-canary) -m found',
      '  use_backend backend if svc api canary',
      '  use_backend backend if svc',
      'backend backend',
      '  http-reuse always',
      `  server s1 127.0.0.1:${backendPort}`,
      '',
    ].join('\n'),
  );
  const child = spawn(binary, ['-f', config, '-db'], { stdio: 'ignore' });
  await until('haproxy listening', async () => {
    const response = await request(`http://127.0.0.1:${port}${PATH}`, { headers: { host: HOST } });
    await response.body.dump();
    return response.statusCode === 200;
  });
  return { name: 'haproxy (nbthread 1)', port, pid: child.pid, stop: () => stopChild(child) };
}

async function measure(load: ChildProcess, target: Target): Promise<Sample> {
  const job = (mode: 'max' | 'rate', seconds: number): LoadJob => ({
    url: `http://127.0.0.1:${target.port}${PATH}`,
    host: HOST,
    mode,
    seconds,
    connections: 32,
    inFlight: 64,
    rate: RATE,
  });
  const timed = async (j: LoadJob): Promise<{ result: LoadResult; cpuUs: number }> => {
    const cpuBefore = target.pid ? treeCpuSeconds(target.pid) : 0;
    const done = message<LoadResult>(load, 'result');
    load.send(j);
    const result = await done;
    const cpuAfter = target.pid ? treeCpuSeconds(target.pid) : 0;
    return { result, cpuUs: ((cpuAfter - cpuBefore) * 1e6) / Math.max(1, result.requests) };
  };
  await timed(job('max', 1)); // warm-up: JIT, connections, pools
  const max = await timed(job('max', SECONDS));
  const fixed = await timed(job('rate', SECONDS));
  return {
    maxRps: max.result.requestsPerSecond,
    maxCpuUs: max.cpuUs,
    rateCpuUs: fixed.cpuUs,
    p50: fixed.result.p50,
    p90: fixed.result.p90,
    p99: fixed.result.p99,
    rssMb: target.pid ? treeRssMb(target.pid) : 0,
    errors: max.result.errors + fixed.result.errors,
  };
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

async function main(): Promise<void> {
  const backend = fork(join(here, 'backend-child.ts'));
  const load = fork(join(here, 'load-child.ts'));
  const targets: Target[] = [];
  const samples = new Map<string, Sample[]>();
  let plane: { stop(): void } | undefined;
  try {
    const backendPort = await message<number>(backend, 'port');
    await message(load, 'ready');
    const controlPlane = await startControlPlane(backendPort);
    plane = controlPlane;
    targets.push({ name: 'direct', port: backendPort, pid: undefined, stop: async () => {} });
    targets.push(await startWeft('weft-proxy (1 worker)', controlPlane.address, 1, args['cpu-prof']));
    targets.push(await startWeft('weft-proxy (2 workers)', controlPlane.address, 2));
    const haproxy = haproxyBinary();
    if (haproxy) targets.push(await startHaproxy(haproxy, backendPort));
    for (const target of targets) samples.set(target.name, []);
    for (let run = 1; run <= RUNS; run++) {
      for (const target of targets) {
        const sample = await measure(load, target);
        samples.get(target.name)!.push(sample);
        console.log(
          `run ${run} ${target.name}: ${Math.round(sample.maxRps)} req/s, ${sample.maxCpuUs.toFixed(1)} µs CPU/req at max, ` +
            `${sample.rateCpuUs.toFixed(1)} µs at ${RATE}/s, p99 ${sample.p99.toFixed(2)} ms, errors ${sample.errors}`,
        );
      }
    }
  } finally {
    for (const target of targets) await target.stop();
    plane?.stop();
    load.kill();
    backend.kill();
  }

  const rows = targets.map((t) => {
    const s = samples.get(t.name)!;
    const m = (key: keyof Sample) => median(s.map((x) => x[key]));
    return {
      target: t.name,
      maxRps: m('maxRps'),
      maxCpuUs: m('maxCpuUs'),
      rateCpuUs: m('rateCpuUs'),
      p50: m('p50'),
      p90: m('p90'),
      p99: m('p99'),
      rssMb: m('rssMb'),
      errors: s.reduce((n, x) => n + x.errors, 0),
    };
  });
  const ha = rows.find((r) => r.target.startsWith('haproxy'));
  const direct = rows[0]!;
  const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '-');
  console.log(
    `\nmedians of ${RUNS} runs, ${SECONDS} s each; HTTP/1.1 keep-alive GET, 1 KiB responses; fixed rate ${RATE} req/s\n`,
  );
  const header = [
    'target',
    'max req/s',
    'CPU µs/req @max',
    `CPU µs/req @${RATE}/s`,
    'vs HAProxy (@max)',
    'p50 ms',
    'p90 ms',
    'p99 ms',
    'p99 - direct',
    'RSS MB',
    'errors',
  ];
  const lines = rows.map((r) => [
    r.target,
    fmt(r.maxRps, 0),
    r.target === 'direct' ? '-' : fmt(r.maxCpuUs),
    r.target === 'direct' ? '-' : fmt(r.rateCpuUs),
    ha && r.target !== 'direct' ? `${fmt(r.maxCpuUs / ha.maxCpuUs, 2)}x` : '-',
    fmt(r.p50, 2),
    fmt(r.p90, 2),
    fmt(r.p99, 2),
    r.target === 'direct' ? '-' : `+${fmt(r.p99 - direct.p99, 2)}`,
    r.target === 'direct' ? '-' : fmt(r.rssMb, 0),
    String(r.errors),
  ]);
  console.log(`| ${header.join(' | ')} |`);
  console.log(`| ${header.map(() => '---').join(' | ')} |`);
  for (const line of lines) console.log(`| ${line.join(' | ')} |`);
  console.log(`\n${JSON.stringify({ runs: RUNS, seconds: SECONDS, rate: RATE, rows })}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
