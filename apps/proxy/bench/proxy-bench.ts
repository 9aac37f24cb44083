/**
 * `npm run bench:proxy`: one command, one run, side by side, for HTTP/1.1,
 * HTTP/2 (h2c) and gRPC unary: the same load straight to the protocol's
 * backend ("direct"), through weft-proxy (the built binary configured over
 * ADS, proxy-targets.ts) and through HAProxy `nbthread 1` with equivalent
 * ACLs; for HTTP/1.1 also weft-proxy with two workers, a client -> server
 * sidecar pair with and without mTLS (pair-targets.ts: built weft-ca,
 * weft-discovery and four weft-proxy processes) and a plaintext pair of two
 * HAProxy processes. Options and scenarios: bench/README.md.
 *
 * Per target and run: 1 s warm-up, then
 * - max: closed loop, 64 in flight (HTTP/1.1 over 32 connections; h2 and
 *   gRPC over 4 sessions/channels, 16 streams each): req/s and the target's
 *   CPU µs per request (utime + stime of its process trees, /proc);
 * - fixed: open loop at `--rate` req/s: latency p50/p90/p99 from each
 *   request's due time, CPU µs per request, RSS.
 * After each run the bench checks the requests crossed the target: the
 * backend answered at least as many requests as the load generator saw
 * answered, and each weft-proxy's admin `/stats` `upstream_rq_total` grew
 * by at least as many. Failed requests (transport errors, non-2xx, non-OK
 * gRPC status, short bodies) are counted per target and flagged.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BENCH_PATH, PROTOCOLS, type Protocol } from './bench-protocols.ts';
import { printReport, type Row, type Sample } from './bench-report.ts';
import type { Target } from './bench-target.ts';
import type { LoadJob, LoadResult } from './load-child.ts';
import { type PairKind, type PairMesh, startPairs } from './pair-targets.ts';
import { treeCpuSeconds, treeRssMb } from './proc-stats.ts';
import {
  type Backend,
  backendOf,
  type ControlPlane,
  directTarget,
  haproxyBinary,
  message,
  startControlPlane,
  startHaproxy,
  startWeft,
} from './proxy-targets.ts';

const here = dirname(fileURLToPath(import.meta.url));

/** Every scenario: its protocol, in report order. */
const SCENARIOS = {
  direct: 'http1',
  'weft-1': 'http1',
  'weft-2': 'http1',
  haproxy: 'http1',
  'pair-haproxy': 'http1',
  'pair-plain': 'http1',
  'pair-mtls': 'http1',
  'h2-direct': 'h2',
  'h2-weft-1': 'h2',
  'h2-haproxy': 'h2',
  'grpc-direct': 'grpc',
  'grpc-weft-1': 'grpc',
  'grpc-haproxy': 'grpc',
} as const satisfies Record<string, Protocol>;
type Scenario = keyof typeof SCENARIOS;
const SCENARIO_NAMES = Object.keys(SCENARIOS) as Scenario[];

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '3' },
    rate: { type: 'string', default: '1000' },
    scenarios: { type: 'string', default: SCENARIO_NAMES.join(',') },
    protocols: { type: 'string', default: PROTOCOLS.join(',') },
    'cpu-prof': { type: 'string' },
    'started-at': { type: 'string' },
  },
});

function fail(text: string): never {
  console.error(text);
  process.exit(2);
}

const RUNS = Number(args.runs);
const SECONDS = Number(args.seconds);
const RATE = Number(args.rate);
if (!Number.isInteger(RUNS) || RUNS < 1) fail(`--runs: expected a whole number >= 1, got ${args.runs}`);
if (!(SECONDS > 0)) fail(`--seconds: expected a number > 0, got ${args.seconds}`);
if (!(RATE > 0)) fail(`--rate: expected a number > 0, got ${args.rate}`);
const listed = (text: string) =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
const unknownScenarios = listed(args.scenarios).filter((s) => !Object.hasOwn(SCENARIOS, s));
if (unknownScenarios.length > 0)
  fail(`--scenarios: unknown ${unknownScenarios.join(', ')} (known: ${SCENARIO_NAMES.join(', ')})`);
const unknownProtocols = listed(args.protocols).filter((p) => !(PROTOCOLS as readonly string[]).includes(p));
if (unknownProtocols.length > 0)
  fail(`--protocols: unknown ${unknownProtocols.join(', ')} (known: ${PROTOCOLS.join(', ')})`);
const protocols = new Set(listed(args.protocols) as Protocol[]);
const picked = new Set(
  (listed(args.scenarios) as Scenario[]).filter((scenario) => protocols.has(SCENARIOS[scenario])),
);
if (picked.size === 0) fail('--scenarios and --protocols leave no target to measure');
const startedAt = args['started-at'] === undefined ? undefined : Number(args['started-at']);

/** Where `--cpu-prof` puts a protocol's weft-proxy profile: HTTP/1.1 (and the mTLS pair) in DIR itself. */
function profileDir(protocol: Protocol): string | undefined {
  const dir = args['cpu-prof'];
  if (dir === undefined) return undefined;
  const path = protocol === 'http1' ? dir : join(dir, protocol);
  mkdirSync(path, { recursive: true });
  return path;
}

/** How the load generator drives a protocol at max: connections (or sessions/channels) and requests in flight. */
const LOAD_SHAPE: Record<Protocol, { connections: number; inFlight: number }> = {
  http1: { connections: 32, inFlight: 64 },
  h2: { connections: 4, inFlight: 64 },
  grpc: { connections: 4, inFlight: 64 },
};

async function measure(load: ChildProcess, target: Target): Promise<Sample> {
  const job = (mode: 'max' | 'rate', seconds: number): LoadJob => ({
    url: `http://127.0.0.1:${target.port}${BENCH_PATH}`,
    host: target.host,
    protocol: target.protocol,
    mode,
    seconds,
    ...LOAD_SHAPE[target.protocol],
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
  const servedBefore = await target.served();
  const upstreamBefore = await target.upstreamRequests();
  const warm = await timed(job('max', 1)); // JIT, connections, pools
  const max = await timed(job('max', SECONDS));
  const fixed = await timed(job('rate', SECONDS));
  const phases = [warm.result, max.result, fixed.result];
  const ok = phases.reduce((n, r) => n + r.ok, 0);
  const checkProblems: string[] = [];
  const served = (await target.served()) - servedBefore;
  if (served < ok) checkProblems.push(`the backend answered ${served} requests, the load saw ${ok} answered`);
  const upstreamAfter = await target.upstreamRequests();
  upstreamAfter.forEach((count, i) => {
    const forwarded = count - (upstreamBefore[i] ?? 0);
    if (forwarded < ok)
      checkProblems.push(
        `weft-proxy #${i + 1} counted ${forwarded} upstream requests (/stats) for ${ok} answered`,
      );
  });
  const failures: Record<string, number> = {};
  for (const phase of phases) {
    for (const [what, count] of Object.entries(phase.failures))
      failures[what] = (failures[what] ?? 0) + count;
  }
  return {
    maxRps: max.result.requestsPerSecond,
    maxCpuUs: max.cpuUs.reduce((a, b) => a + b, 0),
    rateCpuUs: fixed.cpuUs.reduce((a, b) => a + b, 0),
    rateCpuUsByProxy: fixed.cpuUs,
    p50: fixed.result.p50,
    p90: fixed.result.p90,
    p99: fixed.result.p99,
    rssMbByProxy: target.pids.map(treeRssMb),
    ok,
    errors: phases.reduce((n, r) => n + r.errors, 0),
    badStatus: phases.reduce((n, r) => n + r.badStatus, 0),
    failures,
    checkProblems,
  };
}

async function forkBackend(protocol: Protocol): Promise<Backend> {
  const child = fork(join(here, 'backend-child.ts'), ['127.0.0.1', '0', protocol]);
  return backendOf(protocol, child, await message<number>(child, 'port'));
}

const has = (scenario: Scenario) => picked.has(scenario);
const scenarioOf = (protocol: Protocol, name: 'direct' | 'weft-1' | 'haproxy'): Scenario =>
  (protocol === 'http1' ? name : `${protocol}-${name}`) as Scenario;

/** Starts every picked target, in report order; what was started is pushed to `targets` and `cleanups` as it starts. */
async function startTargets(targets: Target[], cleanups: (() => Promise<void>)[]): Promise<void> {
  const backends = new Map<Protocol, Backend>();
  for (const protocol of PROTOCOLS) {
    // The weft pairs bring their own backends (pair-targets.ts); every other scenario shares its protocol's.
    const shared = [...picked].some(
      (s) => SCENARIOS[s] === protocol && s !== 'pair-plain' && s !== 'pair-mtls',
    );
    if (!shared) continue;
    const backend = await forkBackend(protocol);
    cleanups.push(async () => {
      backend.child.kill();
    });
    backends.set(protocol, backend);
  }
  const needsWeft = PROTOCOLS.some((p) => has(scenarioOf(p, 'weft-1'))) || has('weft-2');
  let controlPlane: ControlPlane | undefined;
  if (needsWeft) {
    const started = await startControlPlane([...backends.values()]);
    controlPlane = started;
    cleanups.push(async () => started.stop());
  }
  const needsHaproxy = PROTOCOLS.some((p) => has(scenarioOf(p, 'haproxy'))) || has('pair-haproxy');
  const haproxy = needsHaproxy ? haproxyBinary() : undefined;
  const add = (target: Target) => {
    targets.push(target);
    cleanups.push(() => target.stop());
  };
  for (const protocol of PROTOCOLS) {
    const backend = backends.get(protocol);
    if (!backend) continue;
    if (has(scenarioOf(protocol, 'direct'))) add(directTarget(backend));
    if (controlPlane && has(scenarioOf(protocol, 'weft-1')))
      add(await startWeft(controlPlane, backend, 1, profileDir(protocol)));
    if (controlPlane && protocol === 'http1' && has('weft-2')) add(await startWeft(controlPlane, backend, 2));
    if (haproxy && has(scenarioOf(protocol, 'haproxy')))
      add(await startHaproxy(haproxy, protocol, backend.port, backend.served));
    if (haproxy && protocol === 'http1' && has('pair-haproxy')) {
      // For scale: the same pair shape with HAProxy as both sidecars (plaintext, one thread each).
      const server = await startHaproxy(haproxy, 'http1', backend.port, backend.served);
      cleanups.push(() => server.stop());
      const client = await startHaproxy(haproxy, 'http1', server.port, backend.served);
      add({
        ...client,
        name: 'pair HAProxy (plaintext)',
        kind: 'pair',
        pids: [...client.pids, ...server.pids],
      });
    }
  }
  const pairKinds: PairKind[] = [];
  if (has('pair-plain')) pairKinds.push('plain');
  if (has('pair-mtls')) pairKinds.push('mtls');
  if (pairKinds.length > 0) {
    const pairs: PairMesh = await startPairs(pairKinds, profileDir('http1'));
    cleanups.push(() => pairs.stop());
    targets.push(...pairs.targets);
  }
}

const fixed = (n: number, digits: number) => (Number.isFinite(n) ? n.toFixed(digits) : '-');

/** Runs every cleanup (last first) once, logging failures. */
async function cleanUp(cleanups: (() => Promise<void>)[]): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) {
    await cleanup().catch((error: unknown) => console.error(`cleanup: ${String(error)}`));
  }
}

async function main(): Promise<void> {
  const load = fork(join(here, 'load-child.ts'));
  const targets: Target[] = [];
  const cleanups: (() => Promise<void>)[] = [async () => void load.kill()];
  const samples = new Map<Target, Sample[]>();
  // An interrupted run stops the proxies, backends and HAProxy processes it started.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`${signal}: stopping`);
      void cleanUp(cleanups).finally(() => process.exit(130));
    });
  }
  try {
    await message(load, 'ready');
    await startTargets(targets, cleanups);
    for (const target of targets) samples.set(target, []);
    for (let run = 1; run <= RUNS; run++) {
      for (const target of targets) {
        const sample = await measure(load, target);
        samples.get(target)!.push(sample);
        console.log(
          `run ${run} ${target.protocol} ${target.name}: ${Math.round(sample.maxRps)} req/s, ` +
            `${fixed(sample.maxCpuUs, 1)} µs CPU/req at max, ${fixed(sample.rateCpuUs, 1)} µs at ${RATE}/s, ` +
            `p50 ${fixed(sample.p50, 2)} p99 ${fixed(sample.p99, 2)} ms, failed ${sample.errors}` +
            (sample.checkProblems.length > 0 ? `, NOT ROUTED: ${sample.checkProblems.join('; ')}` : ''),
        );
      }
    }
  } finally {
    await cleanUp(cleanups);
  }
  const rows: Row[] = targets.map((t) => ({
    target: t.name,
    protocol: t.protocol,
    kind: t.kind,
    samples: samples.get(t)!,
  }));
  printReport(rows, {
    runs: RUNS,
    seconds: SECONDS,
    rate: RATE,
    // performance.now() counts from this process's start.
    wallSeconds: performance.now() / 1000,
    ...(startedAt !== undefined && Number.isFinite(startedAt)
      ? { wallSecondsWithBuild: (Date.now() - startedAt) / 1000 }
      : {}),
  });
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
