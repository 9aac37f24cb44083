/**
 * The generated mesh of the control-plane benchmark: S ServiceEntries in a
 * few namespaces, E WorkloadEntries each, a VirtualService + DestinationRule
 * for every tenth service, and a Sidecar per namespace scoping egress to its
 * own namespace (Istio's advice at scale), so a change to one service
 * concerns only the proxies of its namespace.
 *
 * One file per service (its ServiceEntry and WorkloadEntries) and one per
 * routed service (VirtualService + DestinationRule), so a benchmark change
 * edits one small file as an operator would.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface MeshShape {
  services: number;
  endpointsPerService: number;
  namespaces: number;
}

/** One simulated sidecar: the workload it fronts. */
export interface ProxySpec {
  nodeId: string;
  namespace: string;
  service: number;
  metadata: Record<string, unknown>;
}

export const ROUTED_EVERY = 10;

export function namespaceOf(service: number, shape: MeshShape): string {
  return `bench-${service % shape.namespaces}`;
}

function serviceName(service: number): string {
  return `svc-${service}`;
}

/** The IPv4 address of endpoint `e` of service `s`, with a generation counter for edits. */
export function endpointAddress(service: number, endpoint: number, generation = 0): string {
  const n = service * 64 + endpoint;
  return `${10 + generation}.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
}

function serviceFile(
  service: number,
  shape: MeshShape,
  edited?: { endpoint: number; generation: number },
): string {
  const ns = namespaceOf(service, shape);
  const name = serviceName(service);
  const docs = [
    `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: ${name}
  namespace: ${ns}
spec:
  hosts:
  - ${name}.${ns}.svc.cluster.local
  location: MESH_INTERNAL
  resolution: STATIC
  ports:
  - number: 8080
    name: http
    protocol: HTTP
  workloadSelector:
    labels:
      app: ${name}
`,
  ];
  for (let e = 0; e < shape.endpointsPerService; e++) {
    const generation = edited?.endpoint === e ? edited.generation : 0;
    docs.push(`apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata:
  name: ${name}-${e}
  namespace: ${ns}
spec:
  address: ${endpointAddress(service, e, generation)}
  serviceAccount: ${name}
  labels:
    app: ${name}
    version: v${(e % 2) + 1}
`);
  }
  return docs.join('---\n');
}

function routeFile(service: number, shape: MeshShape, v1Weight: number): string {
  const ns = namespaceOf(service, shape);
  const host = `${serviceName(service)}.${ns}.svc.cluster.local`;
  return `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: ${serviceName(service)}
  namespace: ${ns}
spec:
  host: ${host}
  subsets:
  - name: v1
    labels:
      version: v1
  - name: v2
    labels:
      version: v2
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ${serviceName(service)}
  namespace: ${ns}
spec:
  hosts:
  - ${host}
  http:
  - match:
    - headers:
        x-canary:
          exact: "true"
    route:
    - destination:
        host: ${host}
        subset: v2
  - route:
    - destination:
        host: ${host}
        subset: v1
      weight: ${v1Weight}
    - destination:
        host: ${host}
        subset: v2
      weight: ${100 - v1Weight}
`;
}

function sidecarFile(ns: string): string {
  return `apiVersion: networking.istio.io/v1
kind: Sidecar
metadata:
  name: default
  namespace: ${ns}
spec:
  egress:
  - hosts:
    - "./*"
`;
}

/** Writes a file atomically (rename), so the watcher never reads half a file. */
function writeAtomic(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

/** Writes the whole mesh into `dir` (which must be empty or absent). */
export function writeMesh(dir: string, shape: MeshShape): void {
  mkdirSync(dir, { recursive: true });
  for (let n = 0; n < shape.namespaces; n++) {
    writeFileSync(join(dir, `sidecar-bench-${n}.yaml`), sidecarFile(`bench-${n}`));
  }
  for (let s = 0; s < shape.services; s++) {
    writeFileSync(join(dir, `${serviceName(s)}.yaml`), serviceFile(s, shape));
    if (s % ROUTED_EVERY === 0)
      writeFileSync(join(dir, `${serviceName(s)}-routes.yaml`), routeFile(s, shape, 90));
  }
}

/** Moves endpoint 0 of `service` to a new address (generation > 0). */
export function editEndpoint(dir: string, shape: MeshShape, service: number, generation: number): void {
  writeAtomic(
    join(dir, `${serviceName(service)}.yaml`),
    serviceFile(service, shape, { endpoint: 0, generation }),
  );
}

/** Changes the v1/v2 weights of a routed service's VirtualService. */
export function editVirtualService(dir: string, shape: MeshShape, service: number, v1Weight: number): void {
  writeAtomic(join(dir, `${serviceName(service)}-routes.yaml`), routeFile(service, shape, v1Weight));
}

/**
 * The N sidecars: proxy j fronts endpoint floor(j / S) of service j mod S,
 * with Istio's node id `sidecar~IP~POD.NAMESPACE~NAMESPACE.svc.cluster.local`
 * and the metadata a real istio-agent sends (labels, namespace, IPs).
 */
export function proxySpecs(count: number, shape: MeshShape): ProxySpec[] {
  const specs: ProxySpec[] = [];
  for (let j = 0; j < count; j++) {
    const service = j % shape.services;
    const endpoint = Math.floor(j / shape.services) % shape.endpointsPerService;
    const ns = namespaceOf(service, shape);
    const ip = endpointAddress(service, endpoint);
    const pod = `${serviceName(service)}-${endpoint}-${j}`;
    specs.push({
      nodeId: `sidecar~${ip}~${pod}.${ns}~${ns}.svc.cluster.local`,
      namespace: ns,
      service,
      metadata: {
        NAMESPACE: ns,
        INSTANCE_IPS: ip,
        WORKLOAD_NAME: `${serviceName(service)}-${endpoint}`,
        SERVICE_ACCOUNT: serviceName(service),
        CLUSTER_ID: 'Kubernetes',
        LABELS: { app: serviceName(service), version: `v${(endpoint % 2) + 1}` },
        ISTIO_VERSION: '1.24.0',
      },
    });
  }
  return specs;
}
