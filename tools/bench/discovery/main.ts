/**
 * `npm run bench:discovery`: weft-discovery under N simulated proxies.
 *
 * Generates a config directory (S ServiceEntries x E WorkloadEntries, a
 * VirtualService + DestinationRule for every tenth service, a Sidecar per
 * namespace), starts the built weft-discovery binary on it, opens N ADS
 * streams (@weft/xds clients, spread over load processes) and measures:
 * initial sync of all proxies; endpoint change -> last ACK (p50/p99) and
 * how many proxies got a push; VirtualService change -> last ACK; resource
 * bytes pushed per change; weft-discovery's peak RSS and CPU seconds.
 *
 *   node --conditions=@weft/source tools/bench/discovery/main.ts [--services S]
 *     [--endpoints E] [--proxies N] [--namespaces K] [--mode sotw|delta|both]
 *     [--changes C] [--quick] [--matrix] [--cpu-prof DIR] [--load-cpu-prof DIR]
 *     [--max-old-space MB] [--discovery-log FILE]
 */
import { type ChildProcess, fork } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type AdsMode, ENDPOINT_TYPE_URL, ROUTE_TYPE_URL } from '@weft/xds';
import { startDiscoveryProcess } from './discovery-process.ts';
import {
  editEndpoint,
  editVirtualService,
  type MeshShape,
  type ProxySpec,
  proxySpecs,
  ROUTED_EVERY,
  writeMesh,
} from './mesh-config.ts';
import { formatTable, type ScenarioResult } from './report-table.ts';
import type { ChangeReport, ToParent, ToWorker } from './worker-messages.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../../..');
const BINARY = join(ROOT, 'apps/discovery/dist/main.js');
const PROXIES_PER_WORKER = 250;
const MAX_WORKERS = 4;
const SYNC_TIMEOUT_MS = 180_000;
const CHANGE_TIMEOUT_MS = 30_000;
const SETTLE_MS = 400;

interface Options {
  services: number;
  endpoints: number;
  proxies: number;
  namespaces: number;
  modes: AdsMode[];
  changes: number;
  matrix: boolean;
  debounceMs: number;
  cpuProfDir: string | undefined;
  loadCpuProfDir: string | undefined;
  discoveryLog: string | undefined;
  maxOldSpaceMb: number | undefined;
}

function parseOptions(argv: readonly string[]): Options {
  const options: Options = {
    services: 1000,
    endpoints: 10,
    proxies: 1000,
    namespaces: 4,
    modes: ['sotw', 'delta'],
    changes: 5,
    matrix: false,
    debounceMs: 100,
    cpuProfDir: undefined,
    loadCpuProfDir: undefined,
    discoveryLog: undefined,
    maxOldSpaceMb: undefined,
  };
  const number = (flag: string, value: string | undefined): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${flag}: expected a positive integer, got ${value}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    switch (flag) {
      case '--services':
        options.services = number(flag, value);
        i++;
        break;
      case '--endpoints':
        options.endpoints = number(flag, value);
        i++;
        break;
      case '--proxies':
        options.proxies = number(flag, value);
        i++;
        break;
      case '--namespaces':
        options.namespaces = number(flag, value);
        i++;
        break;
      case '--changes':
        options.changes = number(flag, value);
        i++;
        break;
      case '--debounce':
        options.debounceMs = number(flag, value);
        i++;
        break;
      case '--mode':
        if (value !== 'sotw' && value !== 'delta' && value !== 'both')
          throw new Error(`--mode: expected sotw, delta or both, got ${value}`);
        options.modes = value === 'both' ? ['sotw', 'delta'] : [value];
        i++;
        break;
      case '--cpu-prof':
        if (!value) throw new Error('--cpu-prof: expected a directory');
        options.cpuProfDir = resolve(value);
        i++;
        break;
      case '--load-cpu-prof':
        if (!value) throw new Error('--load-cpu-prof: expected a directory');
        options.loadCpuProfDir = resolve(value);
        i++;
        break;
      case '--discovery-log':
        if (!value) throw new Error('--discovery-log: expected a file');
        options.discoveryLog = resolve(value);
        i++;
        break;
      case '--max-old-space':
        options.maxOldSpaceMb = number(flag, value);
        i++;
        break;
      case '--quick':
        Object.assign(options, { services: 50, endpoints: 3, proxies: 20, namespaces: 2, changes: 2 });
        break;
      case '--matrix':
        options.matrix = true;
        break;
      default:
        throw new Error(`unknown flag ${flag}`);
    }
  }
  return options;
}

/** A load process and a queue of its messages. */
class Worker {
  readonly child: ChildProcess;
  private readonly waiters: { match: (m: ToParent) => boolean; resolve: (m: ToParent) => void }[] = [];
  constructor(onMessage: (m: ToParent) => void, cpuProfDir: string | undefined) {
    const profile = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [];
    this.child = fork(join(HERE, 'client-worker.ts'), [], {
      execArgv: ['--conditions=@weft/source', '--disable-warning=ExperimentalWarning', ...profile],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.add(this.child);
    this.child.once('exit', () => children.delete(this.child));
    this.child.on('message', (m: ToParent) => {
      onMessage(m);
      const i = this.waiters.findIndex((w) => w.match(m));
      if (i >= 0) this.waiters.splice(i, 1)[0]?.resolve(m);
    });
  }
  send(message: ToWorker): void {
    this.child.send(message);
  }
  next<K extends ToParent['kind']>(kind: K, timeoutMs = 60_000): Promise<Extract<ToParent, { kind: K }>> {
    return new Promise((resolvePromise, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`load process: no ${kind} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiters.push({
        match: (m) => m.kind === kind,
        resolve: (m) => {
          clearTimeout(timer);
          resolvePromise(m as Extract<ToParent, { kind: K }>);
        },
      });
    });
  }
}

const wallNow = () => performance.timeOrigin + performance.now();

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

/** Each load process's report since the last mark (and ends the mark). */
async function collectAll(workers: readonly Worker[]): Promise<ChangeReport[]> {
  const reports: ChangeReport[] = [];
  for (const w of workers) {
    const reply = w.next('report');
    w.send({ kind: 'collect' });
    reports.push((await reply).report);
  }
  return reports;
}

interface ChangeOutcome {
  latencyMs: number;
  pushed: number;
  expected: number;
  bytes: number;
  completed: boolean;
}

async function runScenario(
  shape: MeshShape,
  proxies: number,
  mode: AdsMode,
  options: Options,
): Promise<ScenarioResult> {
  const dir = mkdtempSync(join(tmpdir(), 'weft-bench-discovery-'));
  writeMesh(dir, shape);
  const discovery = await startDiscoveryProcess({
    binary: BINARY,
    configDir: dir,
    debounceMs: options.debounceMs,
    ...(options.cpuProfDir ? { cpuProfDir: options.cpuProfDir } : {}),
    ...(options.maxOldSpaceMb ? { maxOldSpaceMb: options.maxOldSpaceMb } : {}),
    ...(options.discoveryLog ? { logFile: options.discoveryLog } : {}),
  });
  const discoveryHandle = { kill: () => process.kill(discovery.pid, 'SIGKILL') };
  children.add(discoveryHandle);
  const memory = watchMemory(discovery.httpAddress);
  const specs = proxySpecs(proxies, shape);
  const workerCount = Math.min(MAX_WORKERS, Math.ceil(proxies / PROXIES_PER_WORKER));
  let synced = 0;
  let lastSyncAt = 0;
  const syncTimes: number[] = [];
  let allSynced: () => void = () => {};
  const syncDone = new Promise<void>((r) => {
    allSynced = r;
  });
  const workers = Array.from(
    { length: workerCount },
    () =>
      new Worker((m) => {
        if (m.kind !== 'synced') return;
        synced += 1;
        syncTimes.push(m.at);
        lastSyncAt = Math.max(lastSyncAt, m.at);
        if (synced === proxies) allSynced();
      }, options.loadCpuProfDir),
  );
  const share = (w: number) => ({
    from: Math.floor((w * proxies) / workerCount),
    to: Math.floor(((w + 1) * proxies) / workerCount),
  });
  const result: ScenarioResult = {
    mode,
    services: shape.services,
    endpoints: shape.endpointsPerService,
    proxies,
    initialSyncSeconds: Number.NaN,
    syncedProxies: 0,
    endpointP50Ms: Number.NaN,
    endpointP99Ms: Number.NaN,
    endpointPushed: '',
    endpointBytes: Number.NaN,
    vsP50Ms: Number.NaN,
    vsBytes: Number.NaN,
    peakRssMb: Number.NaN,
    discoveryCpuSeconds: Number.NaN,
    syncCpuSeconds: Number.NaN,
    loadCpuSeconds: Number.NaN,
    notes: [],
  };
  try {
    await Promise.all(workers.map((w) => w.next('ready')));
    const cpuBefore = discovery.cpuSeconds();
    const started = wallNow();
    workers.forEach((w, i) => {
      const { from, to } = share(i);
      w.send({
        kind: 'start',
        address: discovery.xdsAddress,
        mode,
        specs: specs.slice(from, to),
        firstIndex: from,
      });
    });
    const timedOut = await Promise.race([
      syncDone.then(() => false),
      new Promise<boolean>((r) => setTimeout(() => r(true), SYNC_TIMEOUT_MS).unref()),
    ]);
    result.syncedProxies = synced;
    result.syncCpuSeconds = discovery.cpuSeconds() - cpuBefore;
    if (timedOut) {
      result.notes.push(`initial sync: ${synced}/${proxies} proxies within ${SYNC_TIMEOUT_MS / 1000} s`);
      result.loadCpuSeconds = (await collectAll(workers)).reduce((n, r) => n + r.cpuSeconds, 0);
      return result;
    }
    result.initialSyncSeconds = (lastSyncAt - started) / 1000;
    const syncSeconds = syncTimes.map((at) => (at - started) / 1000);
    result.notes.push(
      `initial sync per proxy: p10 ${percentile(syncSeconds, 10).toFixed(2)} s, p50 ${percentile(syncSeconds, 50).toFixed(2)} s, p90 ${percentile(syncSeconds, 90).toFixed(2)} s, last ${result.initialSyncSeconds.toFixed(2)} s`,
    );

    const measure = async (
      id: number,
      expectedOf: (spec: ProxySpec) => boolean,
      watchType: string,
      edit: () => void,
    ): Promise<ChangeOutcome> => {
      const expected = specs.flatMap((s, i) => (expectedOf(s) ? [i] : []));
      workers.forEach((w, i) => {
        const { from, to } = share(i);
        w.send({ kind: 'mark', id, watchType, expected: expected.filter((e) => e >= from && e < to) });
      });
      await Promise.all(workers.map((w) => w.next('marked')));
      const editedAt = wallNow();
      const done = Promise.all(workers.map((w) => w.next('change-done', CHANGE_TIMEOUT_MS)));
      edit();
      let completed = true;
      try {
        await done;
      } catch {
        completed = false;
      }
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      const reports = await collectAll(workers);
      const lastAck = Math.max(...reports.map((r) => r.lastAckAt));
      return {
        latencyMs: lastAck > 0 ? lastAck - editedAt : Number.NaN,
        pushed: reports.reduce((n, r) => n + r.pushed.length, 0),
        expected: expected.length,
        bytes: reports.reduce((n, r) => n + r.bytes, 0),
        completed,
      };
    };

    const endpointChanges: ChangeOutcome[] = [];
    for (let k = 0; k < options.changes; k++) {
      const service = (k * 37 + 1) % shape.services;
      const ns = `bench-${service % shape.namespaces}`;
      endpointChanges.push(
        await measure(
          k,
          (s) => s.namespace === ns,
          ENDPOINT_TYPE_URL,
          () => editEndpoint(dir, shape, service, k + 1),
        ),
      );
    }
    const latencies = endpointChanges.filter((c) => c.completed).map((c) => c.latencyMs);
    result.endpointP50Ms = percentile(latencies, 50);
    result.endpointP99Ms = percentile(latencies, 99);
    const pushed = endpointChanges.map((c) => c.pushed);
    result.endpointPushed = `${Math.max(...pushed)}/${endpointChanges[0]?.expected ?? 0}`;
    result.endpointBytes = percentile(
      endpointChanges.map((c) => c.bytes),
      50,
    );
    const incomplete = endpointChanges.filter((c) => !c.completed).length;
    if (incomplete > 0)
      result.notes.push(`${incomplete} endpoint changes not ACKed by every proxy within 30 s`);

    const vsChanges: ChangeOutcome[] = [];
    const routed = Math.ceil(shape.services / ROUTED_EVERY);
    for (let k = 0; k < options.changes; k++) {
      const service = ((k * 7 + 3) % routed) * ROUTED_EVERY;
      const ns = `bench-${service % shape.namespaces}`;
      vsChanges.push(
        await measure(
          100 + k,
          (s) => s.namespace === ns,
          ROUTE_TYPE_URL,
          () => editVirtualService(dir, shape, service, 80 - k * 5),
        ),
      );
    }
    result.vsP50Ms = percentile(
      vsChanges.filter((c) => c.completed).map((c) => c.latencyMs),
      50,
    );
    result.vsBytes = percentile(
      vsChanges.map((c) => c.bytes),
      50,
    );
    const vsIncomplete = vsChanges.filter((c) => !c.completed).length;
    if (vsIncomplete > 0) result.notes.push(`${vsIncomplete} VirtualService changes not ACKed within 30 s`);

    const reports = await collectAll(workers);
    result.loadCpuSeconds = reports.reduce((n, r) => n + r.cpuSeconds, 0);
    return result;
  } finally {
    result.notes.push(memory.stop());
    result.peakRssMb = discovery.memory().peakRss / 2 ** 20;
    result.discoveryCpuSeconds = discovery.cpuSeconds();
    for (const w of workers) {
      w.send({ kind: 'stop' });
    }
    await Promise.all(
      workers.map((w) => new Promise((r) => (w.child.exitCode !== null ? r(null) : w.child.once('exit', r)))),
    );
    await discovery.stop();
    children.delete(discoveryHandle);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** weft-discovery's `/debug/memory` fields whose peaks are reported. */
const MEMORY_FIELDS = ['heapUsed', 'heapTotal', 'external', 'arrayBuffers'] as const;

/**
 * Polls weft-discovery's `/debug/memory` every 250 ms; `stop` ends polling
 * and describes the peaks (what the peak RSS is made of).
 */
function watchMemory(httpAddress: string): { stop(): string } {
  const peaks = new Map<string, number>();
  let polling = false;
  const poll = async (): Promise<void> => {
    if (polling) return;
    polling = true;
    try {
      const response = await fetch(`http://${httpAddress}/debug/memory`);
      const body = (await response.json()) as Record<string, number> & {
        xdsWrites?: { inFlightBytes: number; waitingWrites: number };
      };
      const sample: [string, number][] = MEMORY_FIELDS.map((f) => [f, body[f] ?? 0]);
      sample.push(['xdsInFlight', body.xdsWrites?.inFlightBytes ?? 0]);
      sample.push(['xdsWaiting', body.xdsWrites?.waitingWrites ?? 0]);
      for (const [field, value] of sample) peaks.set(field, Math.max(peaks.get(field) ?? 0, value));
    } catch {
      // weft-discovery busy or stopping: the next poll tries again.
    } finally {
      polling = false;
    }
  };
  const timer = setInterval(() => void poll(), 250);
  const mb = (field: string) => `${((peaks.get(field) ?? 0) / 2 ** 20).toFixed(0)} MB`;
  return {
    stop() {
      clearInterval(timer);
      return `peaks of weft-discovery /debug/memory (sampled every 250 ms): ${MEMORY_FIELDS.map((f) => `${f} ${mb(f)}`).join(', ')}, xDS response bytes in flight ${mb('xdsInFlight')}, responses waiting ${peaks.get('xdsWaiting') ?? 0}`;
    },
  };
}

/** Child processes alive now, ended if the benchmark itself is interrupted. */
const children = new Set<{ kill(signal?: NodeJS.Signals): unknown }>();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const child of children) child.kill('SIGKILL');
    process.exit(130);
  });
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: run npx nx run weft-discovery:build first`);
  const runs: { services: number; proxies: number }[] = options.matrix
    ? [100, 1000, 5000].flatMap((services) => [100, 500, 1000].map((proxies) => ({ services, proxies })))
    : [{ services: options.services, proxies: options.proxies }];
  const results: ScenarioResult[] = [];
  const began = wallNow();
  for (const run of runs) {
    for (const mode of options.modes) {
      const shape = {
        services: run.services,
        endpointsPerService: options.endpoints,
        namespaces: options.namespaces,
      };
      process.stderr.write(
        `bench:discovery: ${mode} S=${run.services} E=${options.endpoints} N=${run.proxies} ...\n`,
      );
      const result = await runScenario(shape, run.proxies, mode, options);
      results.push(result);
      process.stderr.write(`${formatTable([result])}\n`);
    }
  }
  process.stdout.write(`\n${formatTable(results)}\n`);
  process.stdout.write(
    `\nnamespaces ${options.namespaces} (a Sidecar per namespace: egress ./*), debounce ${options.debounceMs} ms, ${options.changes} changes of each kind; total ${((wallNow() - began) / 1000).toFixed(0)} s\n`,
  );
}

await main();
