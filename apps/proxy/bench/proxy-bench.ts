/**
 * `npm run bench:proxy`: one command, one run, side by side: the same load
 * straight to a node:http backend ("direct"), through weft-proxy with one
 * worker and with two (the built binary, configured over ADS by an
 * in-process @weft/xds server: a listener, a route table with a header
 * match, a static cluster; metrics on), and through HAProxy with
 * `nbthread 1` and an equivalent ACL (installed with apt-get when missing
 * and running as root, else skipped), and through a client -> server
 * sidecar pair with and without mTLS (pair-targets.ts: built weft-ca,
 * weft-discovery and four weft-proxy processes), and, for scale, a plaintext
 * pair of two HAProxy processes.
 *
 * HTTP/1.1 keep-alive, GET, 1 KiB response bodies. Per target and run:
 * - max: closed loop, 64 in flight over 32 connections: req/s and the
 *   target's CPU µs per request (utime + stime of its process tree, /proc);
 * - fixed: open loop at 1000 req/s: latency p50/p90/p99 from each request's
 *   due time, CPU µs per request, RSS.
 * Prints medians over the runs (default 3; `--runs N --seconds S`), ratios
 * to HAProxy, the pairs' figures against direct and mTLS against plaintext,
 * and one JSON line with every figure. `--scenarios a,b` picks targets
 * (direct, weft-1, weft-2, haproxy, pair-plain, pair-mtls, pair-haproxy;
 * default all).
 *
 * Run from the repo root: npm run bench:proxy [-- --runs 5 --seconds 5]
 * `--cpu-prof DIR` runs the single-worker weft-proxy and the mTLS pair's
 * proxies with --cpu-prof.
 */
import { type ChildProcess, execFileSync, fork, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
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
import { freePort, stopChild } from '../test/support/processes.ts';
import { spawnWeftProxy, type Target, until } from './bench-target.ts';
import type { LoadJob, LoadResult } from './load-child.ts';
import { type PairKind, type PairMesh, startPairs } from './pair-targets.ts';
import { treeCpuSeconds, treeRssMb } from './proc-stats.ts';
import { printReport, type Row, type Sample } from './report.ts';

const here = dirname(fileURLToPath(import.meta.url));
const SCENARIOS = [
  'direct',
  'weft-1',
  'weft-2',
  'haproxy',
  'pair-plain',
  'pair-mtls',
  'pair-haproxy',
] as const;
const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '3' },
    rate: { type: 'string', default: '1000' },
    scenarios: { type: 'string', default: SCENARIOS.join(',') },
    'cpu-prof': { type: 'string' },
  },
});
const RUNS = Number(args.runs);
const SECONDS = Number(args.seconds);
const RATE = Number(args.rate);
const picked = new Set(args.scenarios.split(',').map((s) => s.trim()));
const unknown = [...picked].filter((s) => !(SCENARIOS as readonly string[]).includes(s));
if (unknown.length > 0) {
  console.error(`--scenarios: unknown ${unknown.join(', ')} (known: ${SCENARIOS.join(', ')})`);
  process.exit(2);
}
const NODE_ID = 'sidecar~127.0.0.1~bench.default~default.svc.cluster.local';
const HOST = 'svc.local';
const PATH = '/api/items?id=1';

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
  const proxy = await spawnWeftProxy(
    name,
    [
      '--discovery',
      discovery,
      '--node-id',
      NODE_ID,
      '--listener',
      `http=127.0.0.1:${port}`,
      '--concurrency',
      String(workers),
    ],
    profileDir,
  );
  return { name, port, host: HOST, pids: [proxy.pid], stop: proxy.stop };
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
  return {
    name: 'haproxy (nbthread 1)',
    port,
    host: HOST,
    pids: [child.pid!],
    stop: async () => {
      await stopChild(child);
    },
  };
}

async function measure(load: ChildProcess, target: Target): Promise<Sample> {
  const job = (mode: 'max' | 'rate', seconds: number): LoadJob => ({
    url: `http://127.0.0.1:${target.port}${PATH}`,
    host: target.host,
    mode,
    seconds,
    connections: 32,
    inFlight: 64,
    rate: RATE,
  });
  const timed = async (j: LoadJob): Promise<{ result: LoadResult; cpuUs: number[] }> => {
    const cpuBefore = target.pids.map(treeCpuSeconds);
    const done = message<LoadResult>(load, 'result');
    load.send(j);
    const result = await done;
    const cpuUs = target.pids.map(
      (pid, i) => ((treeCpuSeconds(pid) - cpuBefore[i]!) * 1e6) / Math.max(1, result.requests),
    );
    return { result, cpuUs };
  };
  await timed(job('max', 1)); // warm-up: JIT, connections, pools
  const max = await timed(job('max', SECONDS));
  const fixed = await timed(job('rate', SECONDS));
  return {
    maxRps: max.result.requestsPerSecond,
    maxCpuUs: max.cpuUs.reduce((a, b) => a + b, 0),
    rateCpuUs: fixed.cpuUs.reduce((a, b) => a + b, 0),
    rateCpuUsByProxy: fixed.cpuUs,
    p50: fixed.result.p50,
    p90: fixed.result.p90,
    p99: fixed.result.p99,
    rssMbByProxy: target.pids.map(treeRssMb),
    errors: max.result.errors + fixed.result.errors,
  };
}

async function main(): Promise<void> {
  const backend = fork(join(here, 'backend-child.ts'));
  const load = fork(join(here, 'load-child.ts'));
  const targets: Target[] = [];
  const samples = new Map<string, Sample[]>();
  let plane: { stop(): void } | undefined;
  let pairs: PairMesh | undefined;
  try {
    const backendPort = await message<number>(backend, 'port');
    await message(load, 'ready');
    if (picked.has('direct')) {
      targets.push({ name: 'direct', port: backendPort, host: HOST, pids: [], stop: async () => {} });
    }
    if (picked.has('weft-1') || picked.has('weft-2')) {
      const controlPlane = await startControlPlane(backendPort);
      plane = controlPlane;
      if (picked.has('weft-1')) {
        targets.push(await startWeft('weft-proxy (1 worker)', controlPlane.address, 1, args['cpu-prof']));
      }
      if (picked.has('weft-2'))
        targets.push(await startWeft('weft-proxy (2 workers)', controlPlane.address, 2));
    }
    const haproxy = picked.has('haproxy') || picked.has('pair-haproxy') ? haproxyBinary() : undefined;
    if (haproxy && picked.has('haproxy')) targets.push(await startHaproxy(haproxy, backendPort));
    if (haproxy && picked.has('pair-haproxy')) {
      // For scale: the same pair shape with HAProxy as both sidecars (plaintext, one thread each).
      const server = await startHaproxy(haproxy, backendPort);
      const client = await startHaproxy(haproxy, server.port);
      targets.push({
        name: 'pair HAProxy (plaintext)',
        port: client.port,
        host: HOST,
        pids: [...client.pids, ...server.pids],
        stop: async () => {
          await client.stop();
          await server.stop();
        },
      });
    }
    const pairKinds: PairKind[] = [];
    if (picked.has('pair-plain')) pairKinds.push('plain');
    if (picked.has('pair-mtls')) pairKinds.push('mtls');
    if (pairKinds.length > 0) {
      pairs = await startPairs(pairKinds, args['cpu-prof']);
      targets.push(...pairs.targets);
    }
    for (const target of targets) samples.set(target.name, []);
    for (let run = 1; run <= RUNS; run++) {
      for (const target of targets) {
        const sample = await measure(load, target);
        samples.get(target.name)!.push(sample);
        console.log(
          `run ${run} ${target.name}: ${Math.round(sample.maxRps)} req/s, ${sample.maxCpuUs.toFixed(1)} µs CPU/req at max, ` +
            `${sample.rateCpuUs.toFixed(1)} µs at ${RATE}/s, p50 ${sample.p50.toFixed(2)} p99 ${sample.p99.toFixed(2)} ms, errors ${sample.errors}`,
        );
      }
    }
  } finally {
    for (const target of targets) await target.stop();
    await pairs?.stop();
    plane?.stop();
    load.kill();
    backend.kill();
  }
  const rows: Row[] = targets.map((t) => ({ target: t.name, samples: samples.get(t.name)! }));
  printReport(rows, { runs: RUNS, seconds: SECONDS, rate: RATE });
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
