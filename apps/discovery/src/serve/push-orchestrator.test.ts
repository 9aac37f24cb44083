import { type ConfigObject, type ConfigStore, createConfigStore, defaultMeshConfig } from '@weft/config';
import {
  CLUSTER_TYPE_URL,
  createSnapshotCache,
  ENDPOINT_TYPE_URL,
  type Resource,
  SECRET_TYPE_URL,
  type Snapshot,
  type SnapshotCache,
} from '@weft/xds';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createPushOrchestrator, type ProxyNode, type Translator } from './push-orchestrator.ts';

interface FakeProxy {
  type: 'sidecar' | 'router';
  namespace: string;
}
interface FakePush {
  version: string;
  objects: readonly ConfigObject[];
}

function serviceEntry(name: string, namespace = 'default'): ConfigObject {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'ServiceEntry',
    metadata: { name, namespace },
    spec: { hosts: [`${name}.example.com`], ports: [{ number: 80, name: 'http', protocol: 'HTTP' }] },
  } as ConfigObject;
}

function node(name: string, namespace: string, type = 'sidecar'): ProxyNode {
  return { id: `${type}~10.0.0.1~${name}.${namespace}~${namespace}.svc.cluster.local`, metadata: {} };
}

/** An SDS reference to `secret` over ADS, as a cluster's upstream TLS context carries it. */
function tlsSocket(secret: string) {
  return {
    name: 'envoy.transport_sockets.tls',
    typedConfig: {
      '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
      commonTlsContext: { tlsCertificateSdsSecretConfigs: [{ name: secret, sdsConfig: { ads: {} } }] },
    },
  };
}

function edsCluster(name: string, withEndpoints = true): Resource[] {
  const sds = /^sds-(.+)$/.exec(name)?.[1];
  const cluster: Resource = {
    typeUrl: CLUSTER_TYPE_URL,
    name,
    body: {
      name,
      type: 'EDS',
      edsClusterConfig: { edsConfig: { ads: {} } },
      ...(sds ? { transportSocket: tlsSocket(sds) } : {}),
    },
  };
  if (!withEndpoints) return [cluster];
  return [cluster, { typeUrl: ENDPOINT_TYPE_URL, name, body: { clusterName: name, endpoints: [] } }];
}

/**
 * A translator whose output is one EDS cluster per ServiceEntry in the proxy's
 * namespace; ServiceEntries named `broken-*` get no ClusterLoadAssignment,
 * `throw-*` make generation throw, `key-bug` the view key and `context-bug`
 * the push context; `sds-NAME` clusters refer to SDS secret NAME, and proxies
 * resolve the secret `default` themselves. Counts generations.
 */
function fakeTranslator() {
  const calls = { generate: 0 };
  const translator: Translator<FakeProxy, FakePush> = {
    resolvedByProxy: { [SECRET_TYPE_URL]: new Set(['default']) },
    parseProxy: (n) => {
      const [type, , name] = n.id.split('~');
      if ((type !== 'sidecar' && type !== 'router') || !name?.includes('.')) {
        return { ok: false, problems: [`node.id: "${n.id}" is not TYPE~IP~NAME.NAMESPACE~DOMAIN`] };
      }
      const namespace =
        typeof n.metadata.NAMESPACE === 'string' ? n.metadata.NAMESPACE : name.slice(name.indexOf('.') + 1);
      return { ok: true, proxy: { type, namespace } };
    },
    createPushContext: (objects, _mesh, version) => {
      if (objects.some((o) => o.metadata.name === 'context-bug')) throw new Error('push context bug');
      return { version, objects };
    },
    proxyViewKey: (proxy, push) => {
      if (push.objects.some((o) => o.metadata.name === 'key-bug')) throw new Error('view key bug');
      return proxy.namespace;
    },
    generateResources: (proxy, push) => {
      calls.generate += 1;
      const mine = push.objects.filter((o) => o.metadata.namespace === proxy.namespace);
      if (mine.some((o) => o.metadata.name.startsWith('throw-'))) throw new Error('translator bug');
      const clusters = mine.flatMap((o) =>
        edsCluster(o.metadata.name, !o.metadata.name.startsWith('broken-')),
      );
      return {
        resources: {
          [CLUSTER_TYPE_URL]: clusters.filter((r) => r.typeUrl === CLUSTER_TYPE_URL),
          [ENDPOINT_TYPE_URL]: clusters.filter((r) => r.typeUrl === ENDPOINT_TYPE_URL),
        },
        warnings: [],
      };
    },
  };
  return { translator, calls };
}

/** A cache that records every setSnapshot. */
function recordingCache(): { cache: SnapshotCache; sets: { nodeId: string; snapshot: Snapshot }[] } {
  const inner = createSnapshotCache();
  const sets: { nodeId: string; snapshot: Snapshot }[] = [];
  return {
    sets,
    cache: {
      ...inner,
      setSnapshot: (nodeId, snapshot) => {
        sets.push({ nodeId, snapshot });
        inner.setSnapshot(nodeId, snapshot);
      },
    },
  };
}

function setup(objects: ConfigObject[] = [serviceEntry('a')]) {
  const store: ConfigStore = createConfigStore();
  for (const o of objects) store.apply(o);
  const { translator, calls } = fakeTranslator();
  const { cache, sets } = recordingCache();
  const snapshotSets: { nodeId: string; changed: readonly string[] }[] = [];
  const orchestrator = createPushOrchestrator({
    store,
    cache,
    translator,
    mesh: defaultMeshConfig(),
    debounceMs: 100,
    onSnapshotSet: (nodeId, changed) => snapshotSets.push({ nodeId, changed }),
  });
  return { store, cache, sets, snapshotSets, calls, orchestrator };
}

function clusterNames(cache: SnapshotCache, nodeId: string): string[] {
  return [...(cache.getSnapshot(nodeId)?.resources(CLUSTER_TYPE_URL).keys() ?? [])].sort();
}

afterEach(() => {
  vi.useRealTimers();
});

describe('createPushOrchestrator', () => {
  it.each([
    ['connects before the first push', true],
    ['connects after the first push', false],
  ])('gives a proxy its snapshot when it %s', (_name, connectFirst) => {
    const { orchestrator, cache } = setup([serviceEntry('a'), serviceEntry('b')]);
    const n = node('client', 'default');
    if (connectFirst) expect(orchestrator.connect(n)).toEqual({ ok: true });
    orchestrator.pushNow();
    if (!connectFirst) expect(orchestrator.connect(n)).toEqual({ ok: true });
    expect(clusterNames(cache, n.id)).toEqual(['a', 'b']);
    expect(orchestrator.proxies()[0]).toMatchObject({ nodeId: n.id, type: 'sidecar', pushVersion: '1' });
  });

  it('generates once per distinct proxy view and shares the snapshot', () => {
    const { orchestrator, cache, calls } = setup([serviceEntry('a'), serviceEntry('z', 'other')]);
    const nodes = [node('p1', 'default'), node('p2', 'default'), node('p3', 'other')];
    for (const n of nodes) orchestrator.connect(n);
    calls.generate = 0;
    const report = orchestrator.pushNow();
    expect(calls.generate).toBe(2);
    expect(report.viewsGenerated).toBe(2);
    expect(cache.getSnapshot(nodes[0]!.id)).toBe(cache.getSnapshot(nodes[1]!.id));
    expect(clusterNames(cache, nodes[2]!.id)).toEqual(['z']);
  });

  it('sets a snapshot only for proxies whose resources changed', () => {
    const { orchestrator, store, sets } = setup([serviceEntry('a'), serviceEntry('z', 'other')]);
    const mine = node('p1', 'default');
    const theirs = node('p2', 'other');
    orchestrator.connect(mine);
    orchestrator.connect(theirs);
    orchestrator.pushNow();
    sets.length = 0;
    expect(orchestrator.pushNow().proxiesUpdated).toBe(0);
    expect(sets).toEqual([]);
    store.apply(serviceEntry('b'));
    const report = orchestrator.pushNow();
    expect(sets.map((s) => s.nodeId)).toEqual([mine.id]);
    expect(report.changedTypes).toEqual({ [CLUSTER_TYPE_URL]: 1, [ENDPOINT_TYPE_URL]: 1 });
  });

  it('tells which types changed each time it sets a snapshot', () => {
    const { orchestrator, store, snapshotSets } = setup();
    const n = node('p1', 'default');
    orchestrator.pushNow();
    orchestrator.connect(n);
    store.apply(serviceEntry('b'));
    orchestrator.pushNow();
    orchestrator.pushNow();
    expect(snapshotSets).toEqual([
      { nodeId: n.id, changed: [CLUSTER_TYPE_URL, ENDPOINT_TYPE_URL] },
      { nodeId: n.id, changed: [CLUSTER_TYPE_URL, ENDPOINT_TYPE_URL] },
    ]);
  });

  it('drops a pending debounced push when pushing now (the start-up load is pushed once)', () => {
    vi.useFakeTimers();
    const { orchestrator, store } = setup();
    orchestrator.connect(node('p1', 'default'));
    store.apply(serviceEntry('b'));
    const report = orchestrator.pushNow();
    vi.advanceTimersByTime(5000);
    expect(report.version).toBe('1');
    expect(orchestrator.pushVersion).toBe('1');
    store.apply(serviceEntry('c'));
    vi.advanceTimersByTime(100);
    expect(orchestrator.pushVersion).toBe('2');
    orchestrator.close();
  });

  it('pushes once, debounced, after a burst of store changes', () => {
    vi.useFakeTimers();
    const { orchestrator, store, cache } = setup();
    const n = node('p1', 'default');
    orchestrator.connect(n);
    orchestrator.pushNow();
    const spy = vi.spyOn(cache, 'setSnapshot');
    store.apply(serviceEntry('b'));
    vi.advanceTimersByTime(50);
    store.apply(serviceEntry('c'));
    vi.advanceTimersByTime(99);
    expect(spy).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(spy).toHaveBeenCalledTimes(1);
    expect(orchestrator.pushVersion).toBe('2');
    expect(clusterNames(cache, n.id)).toEqual(['a', 'b', 'c']);
    orchestrator.close();
  });

  it('refuses a node that does not parse, with the reason', () => {
    const { orchestrator } = setup();
    const result = orchestrator.connect({ id: 'not-a-node-id', metadata: {} });
    expect(result).toEqual({
      ok: false,
      reason: 'node.id: "not-a-node-id" is not TYPE~IP~NAME.NAMESPACE~DOMAIN',
    });
    expect(orchestrator.proxies()).toEqual([]);
  });

  it('records consistency problems of a snapshot and still serves it', () => {
    const { orchestrator, cache } = setup([serviceEntry('broken-a')]);
    const n = node('p1', 'default');
    orchestrator.connect(n);
    orchestrator.pushNow();
    expect(clusterNames(cache, n.id)).toEqual(['broken-a']);
    expect(orchestrator.proxies()[0]!.consistencyProblems).toEqual([
      'CDS "broken-a" refers to EDS "broken-a", which is missing',
    ]);
  });

  it('does not count references to what proxies resolve themselves as problems, and still counts others', () => {
    const { orchestrator } = setup([serviceEntry('sds-default'), serviceEntry('sds-other')]);
    orchestrator.connect(node('p1', 'default'));
    orchestrator.pushNow();
    expect(orchestrator.proxies()[0]!.consistencyProblems).toEqual([
      'CDS "sds-other" refers to SDS "other", which is missing',
    ]);
  });

  it('keeps the previous snapshot when generation fails, and recovers', () => {
    const { orchestrator, store, cache } = setup();
    const n = node('p1', 'default');
    orchestrator.connect(n);
    orchestrator.pushNow();
    const before = cache.getSnapshot(n.id);
    store.apply(serviceEntry('throw-x'));
    orchestrator.pushNow();
    expect(cache.getSnapshot(n.id)).toBe(before);
    expect(orchestrator.proxies()[0]!.generationError).toBe('translator bug');
    store.delete('ServiceEntry', 'default', 'throw-x');
    store.apply(serviceEntry('b'));
    orchestrator.pushNow();
    expect(orchestrator.proxies()[0]!.generationError).toBeUndefined();
    expect(clusterNames(cache, n.id)).toEqual(['a', 'b']);
  });

  it('regenerates for the latest metadata when a node id connects again', () => {
    const { orchestrator, cache } = setup([serviceEntry('a'), serviceEntry('z', 'other')]);
    orchestrator.pushNow();
    const id = 'sidecar~10.0.0.1~p1.default~default.svc.cluster.local';
    orchestrator.connect({ id, metadata: {} });
    expect(clusterNames(cache, id)).toEqual(['a']);
    // The fake translator reads the namespace from metadata NAMESPACE when present.
    orchestrator.connect({ id, metadata: { NAMESPACE: 'other' } });
    expect(clusterNames(cache, id)).toEqual(['z']);
    expect(orchestrator.proxies()[0]!.streams).toBe(2);
  });

  it.each([
    ['the push context', 'context-bug', 'push context bug'],
    ['the view key', 'key-bug', 'proxy view key: view key bug'],
  ])('keeps serving when %s throws', (_name, objectName, error) => {
    vi.useFakeTimers();
    const { orchestrator, store, cache } = setup();
    const n = node('p1', 'default');
    orchestrator.connect(n);
    orchestrator.pushNow();
    const before = cache.getSnapshot(n.id);
    store.apply(serviceEntry(objectName));
    expect(() => vi.advanceTimersByTime(100)).not.toThrow();
    expect(cache.getSnapshot(n.id)).toBe(before);
    const report = orchestrator.pushNow();
    expect(report.error ?? orchestrator.proxies()[0]!.generationError).toBe(error);
    store.delete('ServiceEntry', 'default', objectName);
    orchestrator.pushNow();
    expect(orchestrator.proxies()[0]!.generationError).toBeUndefined();
    orchestrator.close();
  });

  it('clears the snapshot when the last stream of a node closes', () => {
    const { orchestrator, cache } = setup();
    const n = node('p1', 'default');
    orchestrator.pushNow();
    orchestrator.connect(n);
    orchestrator.connect(n);
    orchestrator.disconnect(n.id);
    expect(cache.getSnapshot(n.id)).toBeDefined();
    expect(orchestrator.proxies()[0]!.streams).toBe(1);
    orchestrator.disconnect(n.id);
    expect(cache.getSnapshot(n.id)).toBeUndefined();
    expect(orchestrator.proxies()).toEqual([]);
  });
});
