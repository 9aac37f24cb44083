/** Shared setup for the protocol tests: control planes, clients and a small mesh, all cleaned up after each test. */
import { afterEach } from 'vitest';
import {
  type AdsClient,
  type AdsClientOptions,
  type AdsMode,
  buildCluster,
  buildClusterLoadAssignment,
  buildListener,
  buildRouteConfiguration,
  CLUSTER_TYPE_URL,
  createAdsClient,
  createSnapshot,
  ENDPOINT_TYPE_URL,
  LISTENER_TYPE_URL,
  ROUTE_TYPE_URL,
  type Snapshot,
  startTestControlPlane,
  type TestControlPlane,
  type TestControlPlaneOptions,
  TYPE_SHORT_NAMES,
  type TypeUrl,
  waitUntil,
} from '../src/index.ts';

export const ALL_TYPES = [CLUSTER_TYPE_URL, ENDPOINT_TYPE_URL, LISTENER_TYPE_URL, ROUTE_TYPE_URL] as const;

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

/** A control plane on 127.0.0.1 (a given port and cache to "restart" one), stopped after the test. */
export async function controlPlane(
  port?: number,
  cache?: TestControlPlane['cache'],
  serverOptions?: TestControlPlaneOptions['serverOptions'],
): Promise<TestControlPlane> {
  const plane = await startTestControlPlane({
    ...(port ? { port } : {}),
    ...(cache ? { cache } : {}),
    ...(serverOptions ? { serverOptions } : {}),
  });
  cleanups.push(() => plane.stop());
  return plane;
}

/** A client of `plane` for `nodeId` with fast backoff, closed after the test. Not started. */
export function client(
  plane: TestControlPlane,
  nodeId: string,
  mode: AdsMode,
  extra: Partial<AdsClientOptions> = {},
): AdsClient {
  const ads = createAdsClient({
    address: plane.address,
    node: { id: nodeId, metadata: { NAMESPACE: 'default' } },
    mode,
    backoff: { initialMs: 20, maxMs: 100, jitter: 0.1 },
    ...extra,
  });
  cleanups.push(() => ads.close());
  return ads;
}

/** A mesh view: clusters (default a, b) with endpoints at `endpointIp`, listener l -> route 80 -> first cluster. */
export function mesh(endpointIp = '10.0.0.1', clusters = ['a', 'b']): Snapshot {
  return createSnapshot({
    [CLUSTER_TYPE_URL]: clusters.map((c) => buildCluster(c)),
    [ENDPOINT_TYPE_URL]: clusters.map((c) => buildClusterLoadAssignment(c, [`${endpointIp}:80`])),
    [LISTENER_TYPE_URL]: [buildListener('l', '80')],
    [ROUTE_TYPE_URL]: [buildRouteConfiguration('80', clusters[0] ?? 'a')],
  });
}

/** Wildcard CDS and LDS, EDS a+b, RDS 80: what a sidecar asks for. */
export function subscribeAll(ads: AdsClient): void {
  ads.subscribe(CLUSTER_TYPE_URL);
  ads.subscribe(ENDPOINT_TYPE_URL, ['a', 'b']);
  ads.subscribe(LISTENER_TYPE_URL);
  ads.subscribe(ROUTE_TYPE_URL, ['80']);
}

/** Sets `snapshot` for the node, starts a client subscribed to all four types and waits for the four ACKs. */
export async function runningClient(
  plane: TestControlPlane,
  nodeId: string,
  mode: AdsMode,
  extra: Partial<AdsClientOptions> = {},
  snapshot: Snapshot = mesh(),
): Promise<AdsClient> {
  plane.cache.setSnapshot(nodeId, snapshot);
  const ads = client(plane, nodeId, mode, extra);
  subscribeAll(ads);
  ads.start();
  await waitUntil(() => acksOf(plane, nodeId).length >= 4, { description: `4 ACKs from ${nodeId}` });
  return ads;
}

export const names = (ads: AdsClient, typeUrl: TypeUrl): string[] =>
  [...ads.resources(typeUrl).keys()].sort();

export const acksOf = (plane: TestControlPlane, nodeId: string, typeUrl?: TypeUrl) =>
  plane.acks.filter((a) => a.nodeId === nodeId && (!typeUrl || a.typeUrl === typeUrl));

export const pushesOf = (plane: TestControlPlane, nodeId: string, typeUrl?: TypeUrl) =>
  plane.pushes.filter((p) => p.nodeId === nodeId && (!typeUrl || p.typeUrl === typeUrl));

/** Pushes since index `from`, as `CDS:2` (type and resource count) in order. */
export const pushSummary = (plane: TestControlPlane, from: number): string[] =>
  plane.pushes.slice(from).map((p) => `${TYPE_SHORT_NAMES[p.typeUrl]}:${p.resourceCount}`);
