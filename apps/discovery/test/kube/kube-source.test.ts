/**
 * The Kubernetes source end to end: the real @kubernetes/client-node lists
 * and watches an API server double over HTTP (kubeconfig pointing at it);
 * weft-discovery serves what it reads to a real ADS client. Adding a Service,
 * its EndpointSlice and a VirtualService changes the client's clusters,
 * endpoints and routes; deleting them changes them back. Watches survive
 * 410 Gone (as HTTP status and as ERROR event), bookmarks and list errors.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@weft/telemetry';
import {
  type AdsClient,
  CLUSTER_TYPE_URL,
  createAdsClient,
  ENDPOINT_TYPE_URL,
  LISTENER_TYPE_URL,
  ROUTE_TYPE_URL,
  type TypeUrl,
} from '@weft/xds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DiscoveryServer, startDiscovery } from '../../src/index.ts';
import {
  type FakeKubeApiServer,
  type FakeResource,
  startFakeKubeApiServer,
} from '../../src/sources/kube/testing/fake-kube-api-server.ts';
import { getJson } from '../e2e/fixtures/debug-http.ts';
import { waitFor } from '../e2e/fixtures/mesh-config.ts';
import {
  endpointSliceObject,
  ISTIO_VERSION,
  namespaceObject,
  nodeObject,
  podObject,
  serviceObject,
  timeoutVirtualService,
} from './kube-builders.ts';

const REVIEWS = 'reviews.default.svc.cluster.local';
const REVIEWS_CLUSTER = `outbound|9080||${REVIEWS}`;

/** networking.istio.io served at v1beta1 only, security.istio.io not at all (its CRDs "missing"). */
const ISTIO_RESOURCES: FakeResource[] = [
  ['VirtualService', 'virtualservices'],
  ['DestinationRule', 'destinationrules'],
  ['Gateway', 'gateways'],
  ['ServiceEntry', 'serviceentries'],
].map(([kind, plural]) => ({
  group: 'networking.istio.io',
  version: 'v1beta1',
  kind: kind ?? '',
  plural: plural ?? '',
  namespaced: true,
}));

function bodyText(client: AdsClient, typeUrl: TypeUrl, name: string): string {
  const resource = client.resources(typeUrl).get(name);
  return resource ? JSON.stringify(resource.body) : '';
}

/** The timeout (seconds) of the first route of `host`'s virtual host in route config `9080`, or undefined. */
function routeTimeout(client: AdsClient, host: string): number | undefined {
  const config = client.resources(ROUTE_TYPE_URL).get('9080')?.body as
    | {
        virtualHosts?: {
          domains?: string[];
          routes?: { route?: { timeout?: { seconds?: number | string } } }[];
        }[];
      }
    | undefined;
  const vhost = config?.virtualHosts?.find((v) => v.domains?.includes(host));
  const seconds = vhost?.routes?.[0]?.route?.timeout?.seconds;
  return seconds === undefined ? undefined : Number(seconds);
}

describe('the Kubernetes source against a list/watch API server double', () => {
  let api: FakeKubeApiServer;
  let dir: string;
  let discovery: DiscoveryServer;
  let client: AdsClient;
  const logLines: Record<string, unknown>[] = [];

  beforeAll(async () => {
    api = await startFakeKubeApiServer({ resources: ISTIO_RESOURCES });
    api.apply(namespaceObject('default', { 'istio-injection': 'enabled' }));
    api.apply(nodeObject('node-a', 'eu-west', 'eu-west-1a'));
    api.apply(
      podObject('reviews-v1-x', {
        ip: '10.1.0.5',
        node: 'node-a',
        account: 'bookinfo-reviews',
        version: 'v1',
      }),
    );
    api.apply(
      podObject('reviews-v2-y', {
        ip: '10.1.0.6',
        node: 'node-a',
        account: 'bookinfo-reviews',
        version: 'v2',
      }),
    );
    dir = await mkdtemp(join(tmpdir(), 'weft-kube-'));
    await writeFile(join(dir, 'kubeconfig'), api.kubeconfig());
    discovery = await startDiscovery({
      source: {
        kind: 'kubernetes',
        kubeconfig: join(dir, 'kubeconfig'),
        debounceMs: 5,
        backoff: { initialMs: 50, maxMs: 200 },
        syncTimeoutMs: 10_000,
        rediscoverMs: 100,
      },
      debounceMs: 10,
      logger: createLogger({
        name: 'weft-discovery',
        level: 'debug',
        write: (line) => logLines.push(JSON.parse(line) as Record<string, unknown>),
      }),
    });
    client = createAdsClient({
      address: discovery.xdsAddress,
      node: {
        id: 'sidecar~10.9.0.1~productpage.default~default.svc.cluster.local',
        metadata: { NAMESPACE: 'default', LABELS: { app: 'productpage' } },
      },
    });
    for (const type of [LISTENER_TYPE_URL, ROUTE_TYPE_URL, CLUSTER_TYPE_URL, ENDPOINT_TYPE_URL] as const)
      client.subscribe(type);
    client.start();
    await waitFor('the first listeners', () => client.version(LISTENER_TYPE_URL) !== '');
  });

  const configProblems = async () => {
    const body = await getJson<{ sources: { problems: { kind?: string; name?: string; path: string }[] }[] }>(
      discovery.httpAddress,
      '/debug/config_problems',
    );
    return body.sources.flatMap((s) => s.problems);
  };

  afterAll(async () => {
    client?.close();
    await discovery?.close();
    await api?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('watches the Istio kinds at the version the cluster serves and warns about the missing ones', async () => {
    const watched = api.requests.filter((r) => r.query.watch === 'true').map((r) => r.path);
    expect(watched).toEqual(
      expect.arrayContaining(['/apis/networking.istio.io/v1beta1/virtualservices', '/api/v1/services']),
    );
    const missing = logLines
      .filter((l) => l.msg === 'Istio kind not served by the cluster')
      .map((l) => String(l.detail));
    expect(missing).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^Sidecar: networking.istio.io serves no sidecars/),
        expect.stringMatching(/^AuthorizationPolicy: the cluster does not serve security.istio.io/),
      ]),
    );
    const ready = await fetch(`http://${discovery.httpAddress}/ready`);
    expect(ready.status).toBe(200);
  });

  it('adds a Service, its EndpointSlice and a VirtualService to the xDS, and takes them away on delete', async () => {
    expect(client.resources(CLUSTER_TYPE_URL).has(REVIEWS_CLUSTER)).toBe(false);
    api.apply(serviceObject('reviews', '10.96.0.20', 9080));
    api.apply(
      endpointSliceObject('reviews', 9080, [
        { ip: '10.1.0.5', pod: 'reviews-v1-x', ready: true },
        { ip: '10.1.0.6', pod: 'reviews-v2-y', ready: false },
      ]),
    );
    api.apply(timeoutVirtualService('reviews', '7s'));
    await waitFor('the reviews cluster, endpoints and route', () => {
      return (
        client.resources(CLUSTER_TYPE_URL).has(REVIEWS_CLUSTER) &&
        bodyText(client, ENDPOINT_TYPE_URL, REVIEWS_CLUSTER).includes('10.1.0.5') &&
        routeTimeout(client, REVIEWS) === 7
      );
    });
    const endpoints = bodyText(client, ENDPOINT_TYPE_URL, REVIEWS_CLUSTER);
    expect(endpoints).toContain('"region":"eu-west"');
    expect(endpoints).toContain('"zone":"eu-west-1a"');
    expect(endpoints, 'a not-ready address is left out').not.toContain('10.1.0.6');
    expect(bodyText(client, CLUSTER_TYPE_URL, REVIEWS_CLUSTER)).toContain(
      'spiffe://cluster.local/ns/default/sa/bookinfo-reviews',
    );

    api.apply(
      endpointSliceObject('reviews', 9080, [
        { ip: '10.1.0.5', pod: 'reviews-v1-x', ready: true },
        { ip: '10.1.0.6', pod: 'reviews-v2-y', ready: true },
      ]),
    );
    await waitFor('the second endpoint once ready', () =>
      bodyText(client, ENDPOINT_TYPE_URL, REVIEWS_CLUSTER).includes('10.1.0.6'),
    );

    api.remove(ISTIO_VERSION, 'VirtualService', 'default', 'reviews');
    await waitFor('the default route without the timeout', () => routeTimeout(client, REVIEWS) !== 7);
    api.remove('discovery.k8s.io/v1', 'EndpointSlice', 'default', 'reviews-abcde');
    api.remove('v1', 'Service', 'default', 'reviews');
    await waitFor('the reviews cluster gone', () => !client.resources(CLUSTER_TYPE_URL).has(REVIEWS_CLUSTER));
  });

  it('reports an invalid VirtualService and keeps serving its last good version', async () => {
    api.apply(serviceObject('ratings', '10.96.0.21', 9080));
    api.apply(timeoutVirtualService('ratings', '3s'));
    const ratings = 'ratings.default.svc.cluster.local';
    await waitFor('the ratings route', () => routeTimeout(client, ratings) === 3);
    const bad = timeoutVirtualService('ratings', '3s');
    bad.spec = {
      hosts: ['ratings'],
      http: [{ timeout: 'soon', route: [{ destination: { host: 'ratings' } }] }],
    };
    api.apply(bad);
    await waitFor('the problem on /debug/config_problems', async () => {
      const problems = await configProblems();
      return problems.some(
        (p) => p.kind === 'VirtualService' && p.name === 'ratings' && p.path === 'spec.http[0].timeout',
      );
    });
    expect(routeTimeout(client, ratings), 'the last good version stays').toBe(3);
    api.apply(timeoutVirtualService('ratings', '4s'));
    await waitFor('the fixed route', () => routeTimeout(client, ratings) === 4);
    expect(await configProblems()).toEqual([]);
  });

  it.each([
    { name: '410 as an HTTP status on the resumed watch', mode: 'http' as const },
    { name: '410 as an ERROR watch event', mode: 'event' as const },
  ])('re-lists after $name and sees what changed meanwhile', async ({ mode }) => {
    const host = `gone-${mode}`;
    const lists = () =>
      api.requests.filter((r) => r.path === '/api/v1/services' && r.query.watch === undefined).length;
    const before = lists();
    const goneBefore = api.goneResponses();
    api.expire(mode);
    api.apply(serviceObject(host, mode === 'http' ? '10.96.0.30' : '10.96.0.31', 8080));
    await waitFor(
      `the ${host} cluster`,
      () => client.resources(CLUSTER_TYPE_URL).has(`outbound|8080||${host}.default.svc.cluster.local`),
      8000,
    );
    expect(lists()).toBeGreaterThan(before);
    if (mode === 'http') expect(api.goneResponses()).toBeGreaterThan(goneBefore);
  });

  it('takes bookmarks in stride and resumes from their resourceVersion', async () => {
    await waitFor('open watches', () => api.openWatches() >= 5);
    api.bookmark();
    api.apply(serviceObject('after-bookmark', '10.96.0.40', 8081));
    await waitFor('the after-bookmark cluster', () =>
      client.resources(CLUSTER_TYPE_URL).has('outbound|8081||after-bookmark.default.svc.cluster.local'),
    );
  });

  it('starts watching an Istio kind once its CRD is installed', async () => {
    api.serve({
      group: 'networking.istio.io',
      version: 'v1beta1',
      kind: 'Sidecar',
      plural: 'sidecars',
      namespaced: true,
    });
    api.apply({
      apiVersion: ISTIO_VERSION,
      kind: 'Sidecar',
      metadata: { name: 'default', namespace: 'default' },
      spec: { egress: [{ hosts: ['./*'] }] },
    });
    await waitFor(
      'the Sidecar in the store',
      () => discovery.store.get('Sidecar', 'default', 'default') !== undefined,
    );
    expect(logLines.some((l) => l.msg === 'Istio kind now served by the cluster; watching it')).toBe(true);
  });

  it('retries a failing list with backoff and catches up', async () => {
    const path = '/apis/networking.istio.io/v1beta1/virtualservices';
    api.failNext(path, 500, 2);
    api.expire('event');
    api.apply(timeoutVirtualService('ratings', '9s'));
    await waitFor(
      'the route after the retries',
      () => routeTimeout(client, 'ratings.default.svc.cluster.local') === 9,
      8000,
    );
    const retries = logLines.filter(
      (l) => l.msg === 'kubernetes list/watch failed; retrying' && l.path === path,
    );
    expect(retries.length).toBeGreaterThanOrEqual(2);
  });
});
