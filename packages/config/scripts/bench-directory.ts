/**
 * Measures the directory source and the mesh model on the control-plane
 * benchmark's config shape (`tools/bench/discovery/mesh-config.ts`, run in a
 * child process to write the directory): initial load, one-file edits to the
 * next store change, `buildMeshModel` and `validateReferences` over the
 * whole store. Run from the repository root:
 * `npx node --expose-gc packages/config/scripts/bench-directory.ts [services] [endpoints] [edits]`
 * (defaults 1000, 10, 7). Prints one JSON line; times in ms, medians.
 * `reload*` are the phases of one reload after a one-file edit, timed
 * without the watcher and debounce: refresh (read + parse the named file),
 * objects (collect every file's objects), references (validateReferences),
 * store (replaceAll). `buildMeshModelMs` builds from objects it never saw;
 * `buildMeshModelAfterEditMs` from the store's objects after one edit, as
 * the discovery server rebuilds.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  buildMeshModel,
  type ConfigEvent,
  createConfigStore,
  createDirectorySource,
  defaultMeshConfig,
  type Logger,
  validateReferences,
} from '../src/index.ts';
import { createDirectoryFiles } from '../src/store/directory-files.ts';

const services = Number(process.argv[2] ?? 1000);
const endpoints = Number(process.argv[3] ?? 10);
const edits = Number(process.argv[4] ?? 7);
const namespaces = 4;
const generator = resolve(import.meta.dirname, '../../../tools/bench/discovery/mesh-config.ts');

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round((sorted[Math.floor(sorted.length / 2)] ?? Number.NaN) * 10) / 10;
}

function timed<T>(run: () => T): [T, number] {
  const start = performance.now();
  const value = run();
  return [value, performance.now() - start];
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** Writes `text` to `path` atomically, as the discovery benchmark's edits do. */
function writeAtomic(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

const dir = mkdtempSync(join(tmpdir(), 'weft-bench-directory-'));
execFileSync(
  process.execPath,
  [
    '--input-type=module',
    '-e',
    `const m = await import(${JSON.stringify(generator)}); m.writeMesh(${JSON.stringify(dir)}, ${JSON.stringify({ services, endpointsPerService: endpoints, namespaces })});`,
  ],
  { stdio: 'inherit' },
);

const loads: number[] = [];
const logger: Logger = {
  debug: () => {},
  info: (msg) => {
    if (msg === 'config directory loaded') loads.push(performance.now());
  },
  warn: (msg, fields) => process.stderr.write(`${msg} ${JSON.stringify(fields)}\n`),
  error: (msg, fields) => process.stderr.write(`${msg} ${JSON.stringify(fields)}\n`),
};
const store = createConfigStore();
let changed: ((events: readonly ConfigEvent[]) => void) | undefined;
store.onChange((events) => changed?.(events));
const source = createDirectorySource({ dir, store, logger });

gc();
const heapBefore = process.memoryUsage().heapUsed;
const startAt = performance.now();
await source.start();
const initialLoadMs = performance.now() - startAt;
gc();
const heapLoadedMB = Math.round((process.memoryUsage().heapUsed - heapBefore) / 1e6);
const objects = store.all();
const mesh = defaultMeshConfig();

// Cold: objects never seen (copies), so nothing built before is reused.
const meshTimes: number[] = [];
const referenceTimes: number[] = [];
let model = buildMeshModel(structuredClone(objects), mesh);
for (let i = 0; i < 5; i++) {
  const copies = structuredClone(objects);
  const [m, ms] = timed(() => buildMeshModel(copies, mesh));
  model = m;
  meshTimes.push(ms);
  referenceTimes.push(timed(() => validateReferences(objects))[1]);
}
// Warm: the store's objects after a one-file edit, the build before them reused where unchanged.
const warmMeshTimes: number[] = [];
buildMeshModel(store.all(), mesh);

/** Applies `edit` and waits for the store change it causes: [write -> loaded log, write -> store event]. */
async function timeEdit(edit: () => void): Promise<[number, number]> {
  const seen = loads.length;
  const changedAt = new Promise<number>((done) => {
    changed = () => {
      changed = undefined;
      done(performance.now());
    };
  });
  const at = performance.now();
  edit();
  const end = await changedAt;
  return [(loads[seen] ?? end) - at, end - at];
}

const endpointEdits: [number, number][] = [];
const routeEdits: [number, number][] = [];
for (let k = 1; k <= edits; k++) {
  const service = (k * 137) % services;
  const file = join(dir, `svc-${service}.yaml`);
  const text = readFileSync(file, 'utf8');
  endpointEdits.push(
    await timeEdit(() => writeAtomic(file, text.replace(/address: 10\./, `address: ${10 + k}.`))),
  );
  const edited = store.all();
  warmMeshTimes.push(timed(() => buildMeshModel(edited, mesh))[1]);
  const routed = ((k * 13) % Math.max(1, Math.floor(services / 10))) * 10;
  const routes = join(dir, `svc-${routed}-routes.yaml`);
  const routeText = readFileSync(routes, 'utf8');
  routeEdits.push(
    await timeEdit(() =>
      writeAtomic(
        routes,
        routeText.replace('weight: 90', `weight: ${90 - k}`).replace('weight: 10', `weight: ${10 + k}`),
      ),
    ),
  );
}
await source.stop();

const phases = {
  refresh: [] as number[],
  objects: [] as number[],
  references: [] as number[],
  store: [] as number[],
};
const files = createDirectoryFiles(dir);
await files.rescan();
const phaseStore = createConfigStore();
phaseStore.replaceAll('bench', files.objects());
for (let k = 1; k <= edits; k++) {
  const name = `svc-${(k * 271) % services}.yaml`;
  const file = join(dir, name);
  writeAtomic(file, readFileSync(file, 'utf8').replace(/address: 10\./, `address: ${30 + k}.`));
  let at = performance.now();
  await files.refresh([name]);
  phases.refresh.push(performance.now() - at);
  const [all, objectsMs] = timed(() => files.objects());
  phases.objects.push(objectsMs);
  phases.references.push(timed(() => validateReferences(all))[1]);
  at = performance.now();
  phaseStore.replaceAll('bench', all);
  phases.store.push(performance.now() - at);
}
rmSync(dir, { recursive: true, force: true });

process.stdout.write(
  `${JSON.stringify({
    services,
    endpoints,
    objects: objects.length,
    meshServices: model.services.length,
    problems: source.problems().length,
    initialLoadMs: Math.round(initialLoadMs),
    heapLoadedMB,
    endpointEditToLoadedMs: median(endpointEdits.map(([loaded]) => loaded)),
    endpointEditToStoreMs: median(endpointEdits.map(([, store]) => store)),
    routeEditToStoreMs: median(routeEdits.map(([, store]) => store)),
    reloadRefreshMs: median(phases.refresh),
    reloadObjectsMs: median(phases.objects),
    reloadReferencesMs: median(phases.references),
    reloadStoreMs: median(phases.store),
    buildMeshModelMs: median(meshTimes),
    buildMeshModelAfterEditMs: median(warmMeshTimes),
    validateReferencesMs: median(referenceTimes),
    rssMB: Math.round(process.memoryUsage().rss / 1e6),
  })}\n`,
);
