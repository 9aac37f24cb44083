/**
 * E2E harness: an in-process ADS server (@weft/xds) on 127.0.0.1:0, real
 * node:http backends that say who served, and bounded waits.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { createLogger } from '@weft/telemetry';
import {
  CLUSTER_TYPE_URL,
  createAdsServer,
  createSnapshot,
  createSnapshotCache,
  ENDPOINT_TYPE_URL,
  LISTENER_TYPE_URL,
  type NackInfo,
  ROUTE_TYPE_URL,
  resourceFromBody,
  type TypeUrl,
} from '@weft/xds';
import type { Body } from '../../src/config/problems.ts';
import { startProxy, type WeftProxy } from '../../src/proxy.ts';

export const NODE_ID = 'sidecar~127.0.0.1~test-1.default~default.svc.cluster.local';

/** Bounded polling: resolves when `condition` holds, rejects after `timeoutMs`. */
export async function waitUntil(
  condition: () => boolean,
  description: string,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${description}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export interface ConfigSet {
  clusters?: Body[];
  endpoints?: Body[];
  listeners?: Body[];
  routes?: Body[];
}

export interface ControlPlane {
  readonly address: string;
  readonly nacks: NackInfo[];
  /** Publishes a full snapshot for NODE_ID. */
  push(config: ConfigSet): void;
  stop(): Promise<void>;
}

export async function startControlPlane(): Promise<ControlPlane> {
  const cache = createSnapshotCache();
  const nacks: NackInfo[] = [];
  const ads = createAdsServer({ cache, onNack: (info) => nacks.push(info) });
  const server = new grpc.Server();
  ads.addToServer(server);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  const of = (typeUrl: TypeUrl, bodies: Body[] = []) =>
    bodies.map((b) => resourceFromBody(typeUrl, b as Record<string, unknown>));
  return {
    address: `127.0.0.1:${port}`,
    nacks,
    push(config) {
      cache.setSnapshot(
        NODE_ID,
        createSnapshot({
          [CLUSTER_TYPE_URL]: of(CLUSTER_TYPE_URL, config.clusters),
          [ENDPOINT_TYPE_URL]: of(ENDPOINT_TYPE_URL, config.endpoints),
          [LISTENER_TYPE_URL]: of(LISTENER_TYPE_URL, config.listeners),
          [ROUTE_TYPE_URL]: of(ROUTE_TYPE_URL, config.routes),
        }),
      );
    },
    async stop() {
      ads.close();
      server.forceShutdown();
    },
  };
}

/**
 * Starts a quiet in-process proxy from static resources (validated exactly
 * as xDS ones, applied CDS, EDS, LDS, RDS) and waits until every listener
 * in `config` is bound.
 */
export async function startStaticProxy(config: ConfigSet): Promise<WeftProxy> {
  const of = (typeUrl: TypeUrl, bodies: Body[] = []) =>
    bodies.map((b) => resourceFromBody(typeUrl, b as Record<string, unknown>));
  const proxy = await startProxy({
    node: { id: NODE_ID },
    admin: null,
    logger: createLogger({ name: 'weft-proxy', level: 'error' }),
    staticResources: [
      ...of(CLUSTER_TYPE_URL, config.clusters),
      ...of(ENDPOINT_TYPE_URL, config.endpoints),
      ...of(LISTENER_TYPE_URL, config.listeners),
      ...of(ROUTE_TYPE_URL, config.routes),
    ],
  });
  const names = (config.listeners ?? []).map((l) => String(l.name));
  await waitUntil(() => names.every((n) => proxy.listenerAddress(n) !== undefined), 'static listeners bound');
  return proxy;
}

export interface Backend {
  readonly name: string;
  readonly port: number;
  /** Requests received, in order. */
  readonly requests: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders; body: string }>;
  /** Status codes to answer with, consumed one per request; then 200. */
  statuses: number[];
  /** Delay before answering, in ms. */
  delayMs: number;
  /** Per-request delays, consumed one per request before falling back to delayMs. */
  delays: number[];
  close(): Promise<void>;
}

/** A backend on `host` answering `{ backend, url, headers }` as JSON, with scripted statuses and delay. */
export async function startBackend(name: string, host = '127.0.0.1'): Promise<Backend> {
  const requests: Backend['requests'] = [];
  const backend = {
    name,
    requests,
    statuses: [] as number[],
    delayMs: 0,
    delays: [] as number[],
  } as Backend & { port: number };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const status = backend.statuses.shift() ?? 200;
      const answer = () => {
        if (res.destroyed) return;
        const payload = JSON.stringify({ backend: name, url: req.url, headers: req.headers, body });
        res.writeHead(status, {
          'content-type': 'application/json',
          'x-backend': name,
          connection: 'keep-alive',
        });
        res.end(payload);
      };
      const delay = backend.delays.shift() ?? backend.delayMs;
      if (delay > 0) setTimeout(answer, delay);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  backend.port = (server.address() as AddressInfo).port;
  backend.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return backend;
}
