/**
 * Test builders for translation tests: Istio YAML in (validated by
 * @weft/config exactly as the server loads it), proxies as their xDS nodes
 * describe them, and a one-call "generate and simulate".
 */
import { fileURLToPath } from 'node:url';
import {
  type ConfigObject,
  defaultMeshConfig,
  formatProblem,
  loadConfigPaths,
  type MeshConfig,
  parseConfigYaml,
} from '@weft/config';
import { expect } from 'vitest';
import {
  createPushContext,
  type Proxy as MeshProxy,
  type PushContext,
  parseProxy,
} from '../../src/model/index.ts';
import {
  type GeneratedResources,
  generateResources,
  type SimulatedRequest,
  type SimulationResult,
  simulateRequest,
} from '../../src/translate/index.ts';

/** The repository's bookinfo example directory. */
export const BOOKINFO_DIR = fileURLToPath(new URL('../../../../examples/bookinfo', import.meta.url));

/** Parses Istio YAML; fails the test on any error-severity problem. */
export function istio(yaml: string): ConfigObject[] {
  const { objects, problems } = parseConfigYaml(yaml, 'test.yaml');
  expect(problems.filter((p) => p.severity === 'error').map(formatProblem)).toEqual([]);
  return objects;
}

/** Loads the bookinfo example; fails the test on any error-severity problem. */
export async function bookinfo(): Promise<ConfigObject[]> {
  const { objects, problems } = await loadConfigPaths([BOOKINFO_DIR]);
  expect(problems.filter((p) => p.severity === 'error').map(formatProblem)).toEqual([]);
  return objects;
}

export interface ServiceSpec {
  name: string;
  namespace?: string;
  ports?: { number: number; name?: string; protocol?: string; targetPort?: number }[];
  resolution?: 'STATIC' | 'DNS' | 'NONE';
  addresses?: string[];
  exportTo?: string[];
  /** host override (defaults to NAME.NAMESPACE.svc.cluster.local). */
  host?: string;
  /** Workloads: version label -> loopback address. */
  workloads?: Record<string, string>;
}

/**
 * ServiceEntry (MESH_INTERNAL, STATIC by default) plus one WorkloadEntry per
 * version, labelled app=NAME, version=VERSION, as local mode describes services.
 */
export function serviceYaml(spec: ServiceSpec): string {
  const namespace = spec.namespace ?? 'default';
  const host = spec.host ?? `${spec.name}.${namespace}.svc.cluster.local`;
  const ports = spec.ports ?? [{ number: 9080, name: 'http', protocol: 'HTTP' }];
  const docs = [
    [
      'apiVersion: networking.istio.io/v1',
      'kind: ServiceEntry',
      `metadata: { name: ${spec.name}, namespace: ${namespace} }`,
      'spec:',
      `  hosts: [${host}]`,
      '  location: MESH_INTERNAL',
      `  resolution: ${spec.resolution ?? 'STATIC'}`,
      ...(spec.addresses ? [`  addresses: [${spec.addresses.join(', ')}]`] : []),
      ...(spec.exportTo ? [`  exportTo: [${spec.exportTo.map((e) => `"${e}"`).join(', ')}]`] : []),
      '  ports:',
      ...ports.map(
        (p) =>
          `  - { number: ${p.number}, name: ${p.name ?? `http-${p.number}`}${p.protocol ? `, protocol: ${p.protocol}` : ''}${p.targetPort ? `, targetPort: ${p.targetPort}` : ''} }`,
      ),
      `  workloadSelector: { labels: { app: ${spec.name} } }`,
    ].join('\n'),
    ...Object.entries(spec.workloads ?? { v1: '127.0.0.10' }).map(([version, address]) =>
      workloadEntryYaml(
        `${spec.name}-${version}`,
        `address: ${address}, serviceAccount: ${spec.name}, labels: { app: ${spec.name}, version: ${version} }`,
        namespace,
      ),
    ),
  ];
  return docs.join('\n---\n');
}

/** The head of a networking.istio.io resource document, up to and including `spec:`. */
export function head(kind: string, name: string, namespace = 'default'): string {
  return `apiVersion: networking.istio.io/v1\nkind: ${kind}\nmetadata: { name: ${name}, namespace: ${namespace} }\nspec:`;
}

/** The head of a security.istio.io resource document, up to and including `spec:`. */
export function securityHead(kind: string, name: string, namespace = 'default'): string {
  return `apiVersion: security.istio.io/v1\nkind: ${kind}\nmetadata: { name: ${name}, namespace: ${namespace} }\nspec:`;
}

/** The SPIFFE ID of a service account in the default trust domain. */
export function spiffe(serviceAccount: string, namespace = 'default'): string {
  return `spiffe://cluster.local/ns/${namespace}/sa/${serviceAccount}`;
}

/** One WorkloadEntry (namespace default unless given); `spec` is the YAML flow mapping's inside. */
export function workloadEntryYaml(name: string, spec: string, namespace = 'default'): string {
  return `apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: { name: ${name}, namespace: ${namespace} }
spec: { ${spec} }`;
}

/** Joins YAML documents. */
export function docs(...parts: string[]): string {
  return parts.join('\n---\n');
}

function proxyOf(node: { id: string; metadata: Record<string, unknown> }): MeshProxy {
  const parsed = parseProxy(node);
  if (!parsed.ok) throw new Error(`test proxy did not parse: ${parsed.problems.join('; ')}`);
  return parsed.proxy;
}

/** A sidecar proxy as Istio's agent describes it. */
export function sidecar(
  options: { ip?: string; name?: string; namespace?: string; labels?: Record<string, string> } = {},
): MeshProxy {
  const {
    ip = '127.0.0.99',
    name = 'client-v1',
    namespace = 'default',
    labels = { app: 'client' },
  } = options;
  return proxyOf({
    id: `sidecar~${ip}~${name}.${namespace}~${namespace}.svc.cluster.local`,
    metadata: { NAMESPACE: namespace, LABELS: labels, INSTANCE_IPS: ip, WORKLOAD_NAME: name },
  });
}

/** An ingress gateway (router) with Istio's default labels. */
export function router(labels: Record<string, string> = { istio: 'ingressgateway' }): MeshProxy {
  return proxyOf({
    id: 'router~127.0.0.50~istio-ingressgateway-1.istio-system~istio-system.svc.cluster.local',
    metadata: { NAMESPACE: 'istio-system', LABELS: labels },
  });
}

/** A proxyless gRPC client (GENERATOR grpc) with a free-form node id. */
export function proxyless(namespace = 'default'): MeshProxy {
  return proxyOf({ id: 'grpc-client-1', metadata: { GENERATOR: 'grpc', NAMESPACE: namespace } });
}

/** A push context over objects with the default mesh config (overridable). */
export function push(objects: ConfigObject[], mesh: Partial<MeshConfig> = {}): PushContext {
  return createPushContext(objects, defaultMeshConfig(mesh), 'test-1');
}

/** Generates resources for `proxy` from Istio YAML. */
export function generate(
  yaml: string,
  proxy: MeshProxy = sidecar(),
  mesh: Partial<MeshConfig> = {},
): GeneratedResources {
  return generateResources(proxy, push(istio(yaml), mesh));
}

/** Generates for `proxy` from `yaml` and simulates `request` through the result. */
export function simulate(
  yaml: string,
  request: SimulatedRequest,
  proxy: MeshProxy = sidecar(),
  mesh: Partial<MeshConfig> = {},
): SimulationResult {
  return simulateRequest(generate(yaml, proxy, mesh).resources, request);
}

/** The RouteAction (`route` field) of the route a simulation matched, or {} when there was none. */
export function routeAction(result: SimulationResult): Record<string, unknown> {
  return (result.route?.route ?? {}) as Record<string, unknown>;
}
