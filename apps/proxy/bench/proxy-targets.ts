/**
 * The single-proxy targets of proxy-bench.ts, per protocol (bench-protocols.ts):
 *
 * - direct: the protocol's backend (backend-child.ts) itself;
 * - weft-proxy: the built binary, configured over ADS by an in-process
 *   @weft/xds server, one node id per protocol: a listener, a route table
 *   with a Host match and a path-prefix + header-match route before the
 *   catch-all, a STATIC cluster (for h2 and gRPC with Envoy's
 *   `HttpProtocolOptions` explicit HTTP/2, as weft-discovery marks HTTP/2
 *   clusters); metrics on, access log off;
 * - HAProxy with `nbthread 1` and the equivalent ACLs, `proto h2` on the
 *   bind and server lines for h2 and gRPC (installed with apt-get when
 *   missing and running as root, else skipped).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import {
  CLUSTER_TYPE_URL,
  createAdsServer,
  createSnapshot,
  createSnapshotCache,
  ENDPOINT_TYPE_URL,
  LISTENER_TYPE_URL,
  ROUTE_TYPE_URL,
  resourceFromBody,
} from '@weft/xds';
import {
  filterChain,
  http2ProtocolOptions,
  httpConnectionManager,
  listener,
  routeConfiguration,
  routeTo,
  staticCluster,
  virtualHost,
} from '../src/testing/builders.ts';
import { freePort, stopChild } from '../test/support/processes.ts';
import { BENCH_HOST, PROTOCOLS, type Protocol, ROUTE_PREFIX } from './bench-protocols.ts';
import { spawnWeftProxy, type Target, until } from './bench-target.ts';
import { createLoadClient } from './load-clients.ts';

/** A backend child process (backend-child.ts) of one protocol. */
export interface Backend {
  readonly protocol: Protocol;
  readonly port: number;
  readonly child: ChildProcess;
  /** Requests answered so far (asked over IPC). */
  served(): Promise<number>;
}

/** Resolves with the first IPC message of `child` that has `key`; rejects on an `error` message or exit. */
export function message<T>(child: ChildProcess, key: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: Record<string, unknown>) => {
      if (!(key in m) && !('error' in m)) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (key in m) resolve(m[key] as T);
      else reject(new Error(String(m.error)));
    };
    const onExit = (code: number | null) => {
      child.off('message', onMessage);
      reject(new Error(`child exited ${code} while waiting for ${key}`));
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Wraps a forked backend-child.ts that has reported its port. */
export function backendOf(protocol: Protocol, child: ChildProcess, port: number): Backend {
  return {
    protocol,
    port,
    child,
    served: () => {
      const answer = message<number>(child, 'served');
      child.send('count');
      return answer;
    },
  };
}

export function directTarget(backend: Backend): Target {
  return {
    name: 'direct',
    protocol: backend.protocol,
    kind: 'direct',
    port: backend.port,
    host: BENCH_HOST,
    pids: [],
    served: backend.served,
    upstreamRequests: async () => [],
    stop: async () => {},
  };
}

const NODE_IDS: Record<Protocol, string> = {
  http1: 'sidecar~127.0.0.1~bench.default~default.svc.cluster.local',
  h2: 'sidecar~127.0.0.1~bench-h2.default~default.svc.cluster.local',
  grpc: 'sidecar~127.0.0.1~bench-grpc.default~default.svc.cluster.local',
};
/** LDS listener, RDS route configuration and cluster name per protocol. */
const NAMES: Record<Protocol, { listener: string; routes: string; cluster: string }> = {
  http1: { listener: 'http', routes: '80', cluster: 'backend' },
  h2: { listener: 'h2', routes: 'h2', cluster: 'backend-h2' },
  grpc: { listener: 'grpc', routes: 'grpc', cluster: 'backend-grpc' },
};

function snapshotFor(protocol: Protocol, backendPort: number) {
  const { listener: listenerName, routes, cluster } = NAMES[protocol];
  const clusterOptions = protocol === 'http1' ? {} : http2ProtocolOptions();
  return createSnapshot({
    [CLUSTER_TYPE_URL]: [
      resourceFromBody(CLUSTER_TYPE_URL, staticCluster(cluster, [{ port: backendPort }], clusterOptions)),
    ],
    [ENDPOINT_TYPE_URL]: [],
    [LISTENER_TYPE_URL]: [
      resourceFromBody(
        LISTENER_TYPE_URL,
        listener(listenerName, 8080, [filterChain(httpConnectionManager(routes))]),
      ),
    ],
    [ROUTE_TYPE_URL]: [
      resourceFromBody(
        ROUTE_TYPE_URL,
        routeConfiguration(routes, [
          virtualHost('other', ['other.local'], [routeTo(cluster)]),
          virtualHost(
            'backend',
            [BENCH_HOST, `${BENCH_HOST}:*`],
            [
              routeTo(cluster, {
                prefix: ROUTE_PREFIX[protocol],
                headers: [{ name: 'x-canary', presentMatch: true }],
              }),
              routeTo(cluster),
            ],
          ),
        ]),
      ),
    ],
  });
}

export interface ControlPlane {
  readonly address: string;
  stop(): void;
}

/** An in-process ADS server holding one snapshot per protocol that has a backend. */
export async function startControlPlane(backends: readonly Backend[]): Promise<ControlPlane> {
  const cache = createSnapshotCache();
  const ads = createAdsServer({ cache });
  const server = new grpc.Server();
  ads.addToServer(server);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  for (const backend of backends)
    cache.setSnapshot(NODE_IDS[backend.protocol], snapshotFor(backend.protocol, backend.port));
  return {
    address: `127.0.0.1:${port}`,
    stop: () => {
      ads.close();
      server.forceShutdown();
    },
  };
}

/** Sends requests until one is answered OK, or rejects after 20 s (the proxy is still taking its config). */
async function untilAnswered(name: string, protocol: Protocol, port: number): Promise<void> {
  await until(`${name} answering`, async () => {
    const client = createLoadClient({
      protocol,
      origin: `http://127.0.0.1:${port}`,
      host: BENCH_HOST,
      connections: 1,
    });
    const outcome = await client.send();
    await client.close();
    return outcome.ok;
  });
}

/** weft-proxy with `workers` processes serving `backend`'s protocol. */
export async function startWeft(
  controlPlane: ControlPlane,
  backend: Backend,
  workers: number,
  profileDir?: string,
): Promise<Target> {
  const { protocol } = backend;
  const name = `weft-proxy (${workers} worker${workers === 1 ? '' : 's'})`;
  const port = await freePort();
  const proxy = await spawnWeftProxy(
    name,
    [
      '--discovery',
      controlPlane.address,
      '--node-id',
      NODE_IDS[protocol],
      '--listener',
      `${NAMES[protocol].listener}=127.0.0.1:${port}`,
      '--concurrency',
      String(workers),
    ],
    profileDir,
  );
  await untilAnswered(name, protocol, port).catch(async (error: unknown) => {
    await proxy.stop();
    throw error;
  });
  return {
    name,
    protocol,
    kind: 'weft',
    port,
    host: BENCH_HOST,
    pids: [proxy.pid],
    served: backend.served,
    upstreamRequests: async () => [await proxy.upstreamRequests()],
    stop: proxy.stop,
  };
}

/** The haproxy binary: found on PATH, else installed with apt-get when root, else undefined (skipped). */
export function haproxyBinary(): string | undefined {
  const find = () => {
    try {
      return execFileSync('sh', ['-c', 'command -v haproxy'], { encoding: 'utf8' }).trim() || undefined;
    } catch {
      return undefined;
    }
  };
  const found = find();
  if (found) return found;
  if (process.getuid?.() !== 0) {
    console.log(
      'haproxy: not installed and not root; skipping it (apt-get install -y haproxy to include it)',
    );
    return undefined;
  }
  console.log('haproxy: installing with apt-get ...');
  try {
    execFileSync(
      'sh',
      ['-c', 'apt-get install -y haproxy || (apt-get update && apt-get install -y haproxy)'],
      {
        stdio: 'ignore',
      },
    );
  } catch {
    console.log('haproxy: apt-get install failed; skipping it');
    return undefined;
  }
  return find();
}

/**
 * HAProxy (`nbthread 1`) in front of `upstreamPort` speaking `protocol` on
 * both sides, with the same work as weft-proxy's route table: a Host match,
 * a path-prefix + header match, keep-alive (HTTP/1.1) or multiplexed
 * (`proto h2`) connections both sides. `served` reports the backend at the
 * end of the chain.
 */
export async function startHaproxy(
  binary: string,
  protocol: Protocol,
  upstreamPort: number,
  served: () => Promise<number>,
): Promise<Target> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'weft-bench-haproxy-'));
  const config = join(dir, 'haproxy.cfg');
  const h2 = protocol === 'http1' ? '' : ' proto h2';
  writeFileSync(
    config,
    [
      'global',
      '  nbthread 1',
      '  maxconn 4096',
      'defaults',
      '  mode http',
      '  timeout connect 5s',
      '  timeout client 60s',
      '  timeout server 60s',
      '  option http-keep-alive',
      'frontend bench',
      `  bind 127.0.0.1:${port}${h2}`,
      `  acl svc hdr_dom(host) -i ${BENCH_HOST}`,
      `  acl api path_beg ${ROUTE_PREFIX[protocol]}`,
      '  acl canary req.hdr(x-canary) -m found',
      '  use_backend backend if svc api canary',
      '  use_backend backend if svc',
      'backend backend',
      '  http-reuse always',
      `  server s1 127.0.0.1:${upstreamPort}${h2}`,
      '',
    ].join('\n'),
  );
  const child = spawn(binary, ['-f', config, '-db'], { stdio: 'ignore' });
  const stop = async () => {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  };
  const name = 'haproxy (nbthread 1)';
  await untilAnswered(name, protocol, port).catch(async (error: unknown) => {
    await stop();
    throw error;
  });
  return {
    name,
    protocol,
    kind: 'haproxy',
    port,
    host: BENCH_HOST,
    pids: [child.pid!],
    served,
    upstreamRequests: async () => [],
    stop,
  };
}

/** Every protocol in `PROTOCOLS` order that `wanted` names. */
export const protocolsIn = (wanted: ReadonlySet<Protocol>): Protocol[] =>
  PROTOCOLS.filter((p) => wanted.has(p));
