/**
 * Measures @weft/config on generated Istio YAML: N services, each with a
 * ServiceEntry, a DestinationRule and a VirtualService in one multi-document
 * file. Run from the repository root:
 * `npx node packages/config/scripts/bench-config.ts [N]` (default 2000).
 */
import {
  buildMeshModel,
  createConfigStore,
  defaultMeshConfig,
  parseConfigYaml,
  validateReferences,
} from '../src/index.ts';

function service(i: number): string[] {
  const ns = `ns-${i % 50}`;
  return [
    `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: svc-${i}, namespace: ${ns}}
spec:
  hosts: [svc-${i}.${ns}.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 8080, name: http, protocol: HTTP}, {number: 9090, name: grpc-metrics}]
  endpoints: [{address: 10.0.${i % 250}.1}, {address: 10.0.${i % 250}.2, ports: {http: 8081}}]
`,
    `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: svc-${i}, namespace: ${ns}}
spec:
  host: svc-${i}
  trafficPolicy: {connectionPool: {tcp: {maxConnections: 100}}, outlierDetection: {consecutive5xxErrors: 5, interval: 10s}}
  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
`,
    `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: svc-${i}, namespace: ${ns}}
spec:
  hosts: [svc-${i}]
  http:
  - match: [{headers: {x-canary: {exact: "true"}}, uri: {prefix: /api}}]
    route: [{destination: {host: svc-${i}, subset: v2}}]
  - route: [{destination: {host: svc-${i}, subset: v1}, weight: 90}, {destination: {host: svc-${i}, subset: v2}, weight: 10}]
    retries: {attempts: 3, perTryTimeout: 2s, retryOn: "5xx,connect-failure"}
    timeout: 10s
`,
  ];
}

function timed<T>(run: () => T): [T, number] {
  const start = performance.now();
  const value = run();
  return [value, Math.round(performance.now() - start)];
}

const count = Number(process.argv[2] ?? 2000);
const text = Array.from({ length: count }, (_, i) => service(i))
  .flat()
  .join('---\n');
const [{ objects, problems }, parseMs] = timed(() => parseConfigYaml(text, 'bench.yaml'));
const [references, referencesMs] = timed(() => validateReferences(objects));
const [mesh, meshMs] = timed(() => buildMeshModel(objects, defaultMeshConfig()));
const store = createConfigStore();
const [, storeMs] = timed(() => {
  store.replaceAll('bench', objects);
  store.replaceAll('bench', objects);
});
process.stdout.write(
  `${JSON.stringify({
    objects: objects.length,
    yamlBytes: text.length,
    problems: problems.length + references.length,
    parseAndValidateMs: parseMs,
    objectsPerSecond: Math.round((objects.length / Math.max(parseMs, 1)) * 1000),
    validateReferencesMs: referencesMs,
    buildMeshModelMs: meshMs,
    services: mesh.services.length,
    storeReplaceAllTwiceMs: storeMs,
    rssMB: Math.round(process.memoryUsage().rss / 1e6),
  })}\n`,
);
