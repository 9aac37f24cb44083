/**
 * The push pipeline alone, in one process, no gRPC: the bench's mesh of S
 * services is loaded into a config store, N sidecars connect to the push
 * orchestrator (each gets its snapshot), then one endpoint change and one
 * VirtualService change are pushed, each timed from the store change to the
 * end of `pushNow` (no debounce, no directory re-read). Tells weft-discovery's
 * own translation and snapshot cost from the config loading and the wire.
 *
 *   node --conditions=@weft/source [--expose-gc] tools/bench/discovery/push-harness.ts
 *     [--services S] [--proxies N] [--rounds R]
 *
 * Uses weft-discovery's internals by path (a benchmark, not a consumer).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConfigStore, defaultMeshConfig, parseConfigYaml } from '@weft/config';
import { createSnapshotCache, PUSH_ORDER } from '@weft/xds';
import { createProxyTranslator } from '../../../apps/discovery/src/proxy-translator.ts';
import { createPushOrchestrator } from '../../../apps/discovery/src/serve/push-orchestrator.ts';
import { editEndpoint, editVirtualService, proxySpecs, ROUTED_EVERY, writeMesh } from './mesh-config.ts';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name}: expected a positive integer`);
  return value;
}

const shape = { services: flag('--services', 1000), endpointsPerService: 10, namespaces: 4 };
const proxies = flag('--proxies', 1000);
const rounds = flag('--rounds', 3);
const dir = mkdtempSync(join(tmpdir(), 'weft-push-harness-'));

/** Loads every file of the mesh directory into the store (what the directory source does once). */
async function load(store: ReturnType<typeof createConfigStore>): Promise<void> {
  const { readdir, readFile } = await import('node:fs/promises');
  for (const file of (await readdir(dir)).sort()) {
    const parsed = parseConfigYaml(await readFile(join(dir, file), 'utf8'), file);
    for (const object of parsed.objects) store.apply(object);
  }
}

/** Applies the file `edit` rewrote (as the directory source would after the watcher fires). */
async function reapply(store: ReturnType<typeof createConfigStore>, edit: () => void): Promise<void> {
  edit();
  await load(store);
}

const ms = (from: number) => (performance.now() - from).toFixed(0);

const cpuMs = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since);
  return ((used.user + used.system) / 1000).toFixed(0);
};

/** V8 heap in use after a full GC (with --expose-gc; else as it stands), in MB. */
function heapMb(): string {
  (globalThis as { gc?: () => void }).gc?.();
  return `${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MB`;
}

try {
  writeMesh(dir, shape);
  const heapAtStart = heapMb();
  const store = createConfigStore();
  await load(store);
  const heapLoaded = heapMb();
  const cache = createSnapshotCache();
  let sets = 0;
  const orchestrator = createPushOrchestrator({
    store,
    cache,
    translator: createProxyTranslator(),
    mesh: defaultMeshConfig(),
    debounceMs: 60_000,
    onSnapshotSet: () => {
      sets += 1;
    },
  });
  let started = performance.now();
  orchestrator.pushNow();
  const firstPush = ms(started);
  started = performance.now();
  const connectCpu = process.cpuUsage();
  for (const spec of proxySpecs(proxies, shape)) {
    const result = orchestrator.connect({ id: spec.nodeId, metadata: spec.metadata });
    if (!result.ok) throw new Error(`connect ${spec.nodeId}: ${result.reason}`);
  }
  process.stdout.write(
    `S=${shape.services} N=${proxies}: first push context ${firstPush} ms; ${proxies} connects ${ms(started)} ms, CPU ${cpuMs(connectCpu)} ms\n`,
  );
  process.stdout.write(
    `heap in use (after GC with --expose-gc): at start ${heapAtStart}, config loaded ${heapLoaded}, ${proxies} proxies connected ${heapMb()}\n`,
  );
  for (let round = 0; round < rounds; round++) {
    for (const [kind, edit] of [
      ['endpoint change', () => editEndpoint(dir, shape, (round * 37 + 1) % shape.services, round + 1)],
      [
        'VirtualService change',
        () =>
          editVirtualService(
            dir,
            shape,
            ((round * 7 + 3) % Math.ceil(shape.services / ROUTED_EVERY)) * 10,
            80 - round * 5,
          ),
      ],
    ] as const) {
      await reapply(store, edit);
      sets = 0;
      started = performance.now();
      const cpuBefore = process.cpuUsage();
      const report = orchestrator.pushNow();
      const cpu = process.cpuUsage(cpuBefore);
      const changed = PUSH_ORDER.map((t) => `${t.split('.').pop()}:${report.changedTypes[t] ?? 0}`).join(' ');
      process.stdout.write(
        `round ${round} ${kind}: push ${ms(started)} ms, CPU ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms (push context + ${report.viewsGenerated} views), ${sets} snapshots set, changed ${changed}\n`,
      );
    }
  }
  process.stdout.write(`heap in use after the changes: ${heapMb()}\n`);
  orchestrator.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
