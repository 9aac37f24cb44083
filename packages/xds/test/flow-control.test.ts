/**
 * Many streams behind a tiny write budget (every response waits for the one
 * before it to reach its connection), with CDS lists composed of a part
 * shared by every node and a part of each node's own: every client gets its
 * full config, in both modes, over real gRPC on 127.0.0.1.
 */
import { describe, expect, it } from 'vitest';
import {
  type AdsMode,
  buildCluster,
  buildClusterLoadAssignment,
  buildListener,
  buildRouteConfiguration,
  CLUSTER_TYPE_URL,
  composeResourceList,
  createSnapshot,
  ENDPOINT_TYPE_URL,
  LISTENER_TYPE_URL,
  ROUTE_TYPE_URL,
  type Snapshot,
  waitUntil,
} from '../src/index.ts';
import { acksOf, client, controlPlane, names } from './ads-harness.ts';

const NODES = ['n0', 'n1', 'n2', 'n3', 'n4', 'n5'];
const SHARED = Array.from({ length: 40 }, (_, i) => `outbound|80||svc-${i}.default`);

/** Shared outbound clusters (EDS) plus the node's own static inbound cluster. */
function nodeSnapshot(nodeId: string, endpointIp: string): Snapshot {
  const shared = SHARED.map((name) => buildCluster(name));
  return createSnapshot({
    [CLUSTER_TYPE_URL]: composeResourceList([
      shared,
      [buildCluster(`inbound|80||${nodeId}`, { type: 'STATIC' })],
    ]),
    [ENDPOINT_TYPE_URL]: SHARED.map((name) => buildClusterLoadAssignment(name, [`${endpointIp}:80`])),
    [LISTENER_TYPE_URL]: [buildListener('l', '80')],
    [ROUTE_TYPE_URL]: [buildRouteConfiguration('80', SHARED[0] as string)],
  });
}

describe.each<AdsMode>(['sotw', 'delta'])('%s streams under a write budget', (mode) => {
  it('all sync, each with the shared part and its own, and all follow a change', async () => {
    const plane = await controlPlane(undefined, undefined, { maxInFlightBytes: 1 });
    const snapshots = new Map(NODES.map((id) => [id, nodeSnapshot(id, '10.0.0.1')]));
    const n0Clusters = snapshots.get('n0')?.resources(CLUSTER_TYPE_URL);
    for (const [id, snapshot] of snapshots) plane.cache.setSnapshot(id, snapshot);
    const clients = NODES.map((id) => {
      const ads = client(plane, id, mode);
      ads.subscribe(CLUSTER_TYPE_URL);
      ads.subscribe(ENDPOINT_TYPE_URL, SHARED);
      ads.subscribe(LISTENER_TYPE_URL);
      ads.subscribe(ROUTE_TYPE_URL, ['80']);
      ads.start();
      return ads;
    });
    await waitUntil(() => NODES.every((id) => acksOf(plane, id).length >= 4), {
      description: 'four ACKs from every node',
    });
    expect(n0Clusters?.size).toBe(SHARED.length + 1);
    clients.forEach((ads, i) => {
      expect(names(ads, CLUSTER_TYPE_URL)).toEqual([...SHARED, `inbound|80||${NODES[i]}`].sort());
      expect(names(ads, ENDPOINT_TYPE_URL)).toHaveLength(SHARED.length);
    });

    const acked = new Map(NODES.map((id) => [id, acksOf(plane, id, ENDPOINT_TYPE_URL).length]));
    for (const id of NODES) plane.cache.setSnapshot(id, nodeSnapshot(id, '10.0.0.2'));
    await waitUntil(
      () => NODES.every((id) => acksOf(plane, id, ENDPOINT_TYPE_URL).length > (acked.get(id) ?? 0)),
      { description: 'an EDS ACK from every node after the change' },
    );
    for (const ads of clients) {
      const assignment = ads.resources(ENDPOINT_TYPE_URL).get(SHARED[7] as string)?.body;
      expect(JSON.stringify(assignment)).toContain('10.0.0.2');
    }
  });
});

describe('responses framed in one reused buffer', () => {
  it('reach each of many concurrent streams intact (grpc-js copies a serialized response before the next)', async () => {
    const plane = await controlPlane();
    const nodes = Array.from({ length: 16 }, (_, i) => `big-${i}`);
    // Each node's own part is large (beyond an HTTP/2 window), so responses of different streams are in flight together.
    const own = (nodeId: string) =>
      Array.from({ length: 400 }, (_, j) =>
        buildCluster(`inbound|${9000 + j}||${nodeId}-${'x'.repeat(200)}`, { type: 'STATIC' }),
      );
    const shared = SHARED.map((name) => buildCluster(name));
    for (const id of nodes) {
      plane.cache.setSnapshot(
        id,
        createSnapshot({
          [CLUSTER_TYPE_URL]: composeResourceList([shared, own(id)]),
          [ENDPOINT_TYPE_URL]: SHARED.map((name) => buildClusterLoadAssignment(name, ['10.0.0.1:80'])),
        }),
      );
    }
    const clients = nodes.map((id) => {
      const ads = client(plane, id, 'sotw');
      ads.subscribe(CLUSTER_TYPE_URL);
      ads.start();
      return ads;
    });
    await waitUntil(() => nodes.every((id) => acksOf(plane, id, CLUSTER_TYPE_URL).length >= 1), {
      description: 'a CDS ACK from every node',
    });
    expect(plane.nacks).toEqual([]);
    clients.forEach((ads, i) => {
      const id = nodes[i] as string;
      expect(names(ads, CLUSTER_TYPE_URL)).toEqual([...SHARED, ...own(id).map((c) => c.name)].sort());
    });
  });
});
