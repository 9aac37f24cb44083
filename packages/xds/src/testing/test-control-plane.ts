/**
 * An in-memory control plane for tests (shipped code, so the proxy's tests
 * can use it too): a real grpc-js server on 127.0.0.1 with an ADS server and
 * a snapshot cache, recording every ACK, NACK and push.
 */
import * as grpc from '@grpc/grpc-js';
import { createSnapshotCache, type SnapshotCache } from '../cache/snapshot-cache.ts';
import { createAdsServer } from '../server/ads-server.ts';
import type {
  AckInfo,
  AdsServer,
  AdsServerOptions,
  NackInfo,
  PushInfo,
  StreamInfo,
} from '../server/ads-server-types.ts';

export interface TestControlPlane {
  /** `127.0.0.1:PORT`. */
  readonly address: string;
  readonly port: number;
  readonly cache: SnapshotCache;
  readonly ads: AdsServer;
  readonly acks: AckInfo[];
  readonly nacks: NackInfo[];
  readonly pushes: PushInfo[];
  readonly opened: StreamInfo[];
  readonly closed: StreamInfo[];
  /** Stops the gRPC server at once (open streams fail with UNAVAILABLE). Safe to repeat. */
  stop(): void;
}

export interface TestControlPlaneOptions {
  /** Port to listen on; default 0 (ephemeral). Pass a stopped plane's port to restart "the same" server. */
  port?: number;
  /** Share a cache between restarts; default a new one. */
  cache?: SnapshotCache;
  serverOptions?: Partial<Omit<AdsServerOptions, 'cache'>>;
}

/** Starts a control plane on loopback. */
export async function startTestControlPlane(
  options: TestControlPlaneOptions = {},
): Promise<TestControlPlane> {
  const cache = options.cache ?? createSnapshotCache();
  const acks: AckInfo[] = [];
  const nacks: NackInfo[] = [];
  const pushes: PushInfo[] = [];
  const opened: StreamInfo[] = [];
  const closed: StreamInfo[] = [];
  const hooks = options.serverOptions ?? {};
  const record =
    <T>(list: T[], hook: ((info: T) => void) | undefined) =>
    (info: T): void => {
      list.push(info);
      hook?.(info);
    };
  const ads = createAdsServer({
    ...hooks,
    cache,
    onAck: record(acks, hooks.onAck),
    onNack: record(nacks, hooks.onNack),
    onPush: record(pushes, hooks.onPush),
    onStreamOpen: record(opened, hooks.onStreamOpen),
    onStreamClose: record(closed, hooks.onStreamClose),
  });
  const server = new grpc.Server();
  ads.addToServer(server);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(
      `127.0.0.1:${options.port ?? 0}`,
      grpc.ServerCredentials.createInsecure(),
      (error, bound) => (error ? reject(error) : resolve(bound)),
    );
  });
  let stopped = false;
  return {
    address: `127.0.0.1:${port}`,
    port,
    cache,
    ads,
    acks,
    nacks,
    pushes,
    opened,
    closed,
    stop() {
      if (stopped) return;
      stopped = true;
      ads.close();
      server.forceShutdown();
    },
  };
}
