/**
 * Runs the built `weft up` (dist/main.js and the built weft-ca,
 * weft-discovery and weft-proxy it spawns) on a copy of examples/bookinfo:
 * the whole mesh with STRICT mTLS and the AuthorizationPolicies, real
 * traffic through the ingress gateway, Istio metrics, traces across hops,
 * a YAML edit shifting traffic live, and a SIGTERM that leaves no process.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const bookinfo = fileURLToPath(new URL('../../../examples/bookinfo', import.meta.url));

interface Edge {
  source: string;
  destination: string;
  version: string;
  requests: number;
  successRate: number;
}

interface Summary {
  ok: boolean;
  gateway: { requests: number; successRate: number; reviewsVersions: Record<string, number> };
  edges: Edge[];
  problems: string[];
  logDir: string;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function weftUp(args: string[]): {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
} {
  const child = spawn(process.execPath, [bin, 'up', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr!.on('data', (c: Buffer) => {
    err += c.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

function get(port: number, path: string, host = '127.0.0.1'): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const request = http.get({ host, port, path, timeout: 3000 }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (c: Buffer) => chunks.push(c));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
      );
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve({ status: 0, body: '' }));
  });
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Pids of processes whose command line mentions `needle` (the test's temporary directory). */
async function processesMentioning(needle: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(needle)) pids.push(Number(entry));
  }
  return pids;
}

/** Trace id -> the proxies whose access logs carry it. */
async function traceHops(logDir: string): Promise<Map<string, Set<string>>> {
  const hops = new Map<string, Set<string>>();
  for (const file of (await readdir(logDir)).filter((f) => f.startsWith('proxy-') && f.endsWith('.log'))) {
    for (const line of (await readFile(join(logDir, file), 'utf8')).split('\n')) {
      const traceId = /"trace_id":"([0-9a-f]{32})"/.exec(line)?.[1];
      if (!traceId) continue;
      const set = hops.get(traceId) ?? new Set<string>();
      set.add(file);
      hops.set(traceId, set);
    }
  }
  return hops;
}

describe('weft up', () => {
  let root: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'weft-up-e2e-'));
  });

  afterAll(async () => {
    for (const pid of await processesMentioning(root)) process.kill(pid, 'SIGKILL');
    await rm(root, { recursive: true, force: true });
  });

  it('runs bookinfo with mTLS: every edge served, 90/10 split, Istio metrics, traces across hops', async () => {
    const config = join(root, 'run', 'bookinfo');
    await cp(bookinfo, config, { recursive: true });
    const port = await freePort();
    const run = weftUp([
      config,
      '--exit-after',
      '20s',
      '--json',
      '--gateway-port',
      String(port),
      '--state-dir',
      join(root, 'run', 'state'),
    ]);
    const code = await run.exited;
    const summary = JSON.parse(run.stdout()) as Summary;
    expect(summary.problems).toEqual([]);
    expect(code).toBe(0);
    expect(run.stderr()).not.toContain('NOTE: no workload identities');

    expect(summary.gateway.requests).toBeGreaterThan(100);
    expect(summary.gateway.successRate).toBeGreaterThanOrEqual(0.99);
    const served = (source: string, destination: string) =>
      summary.edges.filter((e) => e.source === source && e.destination === destination);
    for (const [source, destination] of [
      ['istio-ingressgateway', 'productpage'],
      ['productpage-v1', 'details'],
      ['productpage-v1', 'reviews'],
      ['reviews-v3', 'ratings'],
    ] as const) {
      const edges = served(source, destination);
      expect(
        edges.reduce((n, e) => n + e.requests, 0),
        `${source} -> ${destination}`,
      ).toBeGreaterThan(0);
      for (const e of edges)
        expect(e.successRate, `${source} -> ${destination} ${e.version}`).toBeGreaterThanOrEqual(0.99);
    }
    const reviews = served('productpage-v1', 'reviews');
    const total = reviews.reduce((n, e) => n + e.requests, 0);
    const v1 = reviews.find((e) => e.version === 'v1')?.requests ?? 0;
    expect(Math.abs((v1 / total) * 100 - 90)).toBeLessThanOrEqual(5);
    expect(reviews.map((e) => e.version).sort()).toEqual(['v1', 'v3']);

    const scrape = await readFile(join(summary.logDir, 'proxy-productpage-v1.prom'), 'utf8');
    const line = scrape
      .split('\n')
      .find((l) => l.startsWith('istio_requests_total{') && l.includes('destination_workload="reviews-v3"'));
    expect(line).toBeDefined();
    for (const label of [
      'reporter="source"',
      'source_workload="productpage-v1"',
      'source_workload_namespace="default"',
      'source_app="productpage"',
      'source_principal="spiffe://cluster.local/ns/default/sa/bookinfo-productpage"',
      'destination_service="reviews.default.svc.cluster.local"',
      'destination_service_name="reviews"',
      'destination_version="v3"',
      'response_code="200"',
    ])
      expect(line).toContain(label);
    const inbound = await readFile(join(summary.logDir, 'proxy-reviews-v3.prom'), 'utf8');
    expect(inbound).toMatch(
      /istio_requests_total\{[^}]*reporter="destination"[^}]*source_principal="spiffe:\/\/cluster.local\/ns\/default\/sa\/bookinfo-productpage"[^}]*destination_workload="reviews-v3"[^}]*connection_security_policy="mutual_tls"/,
    );

    const hops = await traceHops(summary.logDir);
    const widest = Math.max(...[...hops.values()].map((s) => s.size));
    expect(widest).toBeGreaterThanOrEqual(3);
  }, 90_000);

  it('shifts traffic within 2 s of a YAML edit, and SIGTERM stops every process', async () => {
    const config = join(root, 'live', 'bookinfo');
    await cp(bookinfo, config, { recursive: true });
    const port = await freePort();
    const run = weftUp([config, '--gateway-port', String(port), '--state-dir', join(root, 'live', 'state')]);
    await until(() => run.stdout().includes('Ctrl-C stops everything'), 45_000);
    const children = await processesMentioning(join(root, 'live'));
    expect(children.length).toBeGreaterThanOrEqual(14); // ca, discovery, 6 apps, 6 sidecars, gateway

    const version = async () => /data-version="(v\d)"/.exec((await get(port, '/productpage')).body)?.[1];
    const vs = join(config, 'virtual-service-reviews-90-10.yaml');
    const yaml = await readFile(vs, 'utf8');
    await writeFile(vs, yaml.replace('weight: 90', 'weight: 0').replace('weight: 10', 'weight: 100'));
    const edited = Date.now();
    // Shifted when 20 pages in a row come from reviews v3; the shift happened at the first of them.
    let streak = 0;
    let streakStart = 0;
    await until(async () => {
      const sent = Date.now();
      if ((await version()) !== 'v3') streak = 0;
      else if (streak++ === 0) streakStart = sent;
      return streak >= 20;
    }, 10_000);
    expect(streakStart - edited).toBeLessThan(2000);

    // Istio's stats port on productpage's sidecar (127.0.0.2): metrics, and nothing else.
    const stats = await get(15090, '/stats/prometheus', '127.0.0.2');
    expect(stats.status).toBe(200);
    expect(stats.body).toMatch(/istio_requests_total\{[^}]*reporter="destination"/);
    expect((await get(15090, '/config_dump', '127.0.0.2')).status).toBe(404);

    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    await until(async () => (await processesMentioning(join(root, 'live'))).length === 0, 10_000);
  }, 90_000);
});
