/**
 * One load process of the control-plane benchmark: opens the ADS streams of
 * the proxies it is given, subscribing as Envoy does (CDS and LDS wildcard,
 * then EDS for every EDS cluster and RDS for every route name the listeners
 * use), and reports to the parent over IPC: when each proxy first had a
 * complete config, and per measured change which proxies got a response,
 * the resource bytes and the time of the last ACK.
 */
import {
  type AdsClient,
  type AdsMode,
  CLUSTER_TYPE_URL,
  createAdsClient,
  ENDPOINT_TYPE_URL,
  LISTENER_TYPE_URL,
  type Resource,
  ROUTE_TYPE_URL,
} from '@weft/xds';
import type { ProxySpec } from './mesh-config.ts';
import type { ChangeReport, ToParent, ToWorker } from './worker-messages.ts';

const wallNow = () => performance.timeOrigin + performance.now();

function send(message: ToParent): void {
  process.send?.(message);
}

/** Route config names referenced through `rds.routeConfigName` anywhere in a listener. */
function routeNames(value: unknown, out: Set<string>): void {
  if (Array.isArray(value)) {
    for (const v of value) routeNames(v, out);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const record = value as Record<string, unknown>;
  const rds = record.rds as { routeConfigName?: unknown } | undefined;
  if (rds && typeof rds.routeConfigName === 'string') out.add(rds.routeConfigName);
  for (const v of Object.values(record)) routeNames(v, out);
}

function edsClusterNames(clusters: ReadonlyMap<string, Resource>): string[] {
  return [...clusters.values()].filter((c) => c.body.type === 'EDS').map((c) => c.name);
}

interface Proxy {
  index: number;
  client: AdsClient;
  edsNames: Set<string>;
  rdsNames: Set<string>;
  synced: boolean;
}

interface Change {
  id: number;
  expected: Set<number>;
  watchType: string;
  pushed: Set<number>;
  acked: Set<number>;
  bytes: number;
  responses: number;
  lastAckAt: number;
  doneSent: boolean;
}

const proxies: Proxy[] = [];
/** One decode per distinct resource in this process, as 250 real proxies would each decode on their own CPU. */
const decodeCache = new Map<string, Resource>();
let change: Change | undefined;
let syncedCount = 0;

function hasAll(
  client: AdsClient,
  typeUrl: typeof ENDPOINT_TYPE_URL | typeof ROUTE_TYPE_URL,
  names: Set<string>,
) {
  const have = client.resources(typeUrl);
  for (const name of names) if (!have.has(name)) return false;
  return true;
}

function checkSynced(proxy: Proxy): void {
  if (proxy.synced) return;
  const { client } = proxy;
  if (client.version(CLUSTER_TYPE_URL) === '' || client.version(LISTENER_TYPE_URL) === '') return;
  if (!hasAll(client, ENDPOINT_TYPE_URL, proxy.edsNames) || !hasAll(client, ROUTE_TYPE_URL, proxy.rdsNames))
    return;
  proxy.synced = true;
  syncedCount += 1;
  send({ kind: 'synced', index: proxy.index, at: wallNow() });
}

function startProxy(address: string, mode: AdsMode, spec: ProxySpec, index: number): void {
  const proxy: Proxy = {
    index,
    client: undefined as unknown as AdsClient,
    edsNames: new Set(),
    rdsNames: new Set(),
    synced: false,
  };
  proxy.client = createAdsClient({
    address,
    mode,
    node: {
      id: spec.nodeId,
      cluster: `${spec.metadata.WORKLOAD_NAME}.${spec.namespace}`,
      metadata: spec.metadata,
      userAgentName: 'envoy',
    },
    backoff: { initialMs: 200, maxMs: 2000 },
    decodeCache,
    channelOptions: { 'grpc.max_receive_message_length': 256 * 1024 * 1024 },
    onResponse: (_typeUrl, info) => {
      if (!change) return;
      change.pushed.add(index);
      change.bytes += info.resourceBytes;
      change.responses += 1;
    },
    onUpdate: (typeUrl, update) => {
      const at = wallNow();
      if (typeUrl === CLUSTER_TYPE_URL) {
        const names = edsClusterNames(update.resources);
        const fresh = names.filter((n) => !proxy.edsNames.has(n));
        for (const n of fresh) proxy.edsNames.add(n);
        if (fresh.length > 0) proxy.client.subscribe(ENDPOINT_TYPE_URL, fresh);
      } else if (typeUrl === LISTENER_TYPE_URL) {
        const names = new Set<string>();
        routeNames(
          [...update.resources.values()].map((r) => r.body),
          names,
        );
        const fresh = [...names].filter((n) => !proxy.rdsNames.has(n));
        for (const n of fresh) proxy.rdsNames.add(n);
        if (fresh.length > 0) proxy.client.subscribe(ROUTE_TYPE_URL, fresh);
      }
      checkSynced(proxy);
      if (change) {
        change.lastAckAt = Math.max(change.lastAckAt, at);
        if (typeUrl === change.watchType) change.acked.add(index);
        if (!change.doneSent && [...change.expected].every((i) => change?.acked.has(i))) {
          change.doneSent = true;
          send({ kind: 'change-done', id: change.id, at });
        }
      }
    },
  });
  proxies.push(proxy);
  proxy.client.subscribe(CLUSTER_TYPE_URL);
  proxy.client.subscribe(LISTENER_TYPE_URL);
  proxy.client.start();
}

function report(): ChangeReport {
  const cpu = process.cpuUsage();
  return {
    id: change?.id ?? -1,
    pushed: change ? [...change.pushed] : [],
    bytes: change?.bytes ?? 0,
    responses: change?.responses ?? 0,
    lastAckAt: change?.lastAckAt ?? 0,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    rssBytes: process.memoryUsage().rss,
  };
}

process.on('message', (message: ToWorker) => {
  switch (message.kind) {
    case 'start':
      for (const [i, spec] of message.specs.entries()) {
        startProxy(message.address, message.mode, spec, message.firstIndex + i);
      }
      return;
    case 'mark':
      change = {
        id: message.id,
        expected: new Set(message.expected),
        watchType: message.watchType,
        pushed: new Set(),
        acked: new Set(),
        bytes: 0,
        responses: 0,
        lastAckAt: 0,
        doneSent: false,
      };
      if (message.expected.length === 0) {
        change.doneSent = true;
        send({ kind: 'change-done', id: message.id, at: wallNow() });
      }
      send({ kind: 'marked', id: message.id });
      return;
    case 'collect':
      send({ kind: 'report', report: report(), synced: syncedCount });
      change = undefined;
      if (decodeCache.size > 200_000) decodeCache.clear();
      return;
    case 'stop':
      for (const p of proxies) p.client.close();
      setTimeout(() => process.exit(0), 50).unref();
      return;
  }
});
send({ kind: 'ready' });
