/**
 * A stream whose node the server cannot use is ended with INVALID_ARGUMENT
 * and the reason; the server logs it and keeps serving other proxies.
 */

import * as grpc from '@grpc/grpc-js';
import { createLogger } from '@weft/telemetry';
import { type AdsClient, createAdsClient, LISTENER_TYPE_URL, loadEnvoyProtos } from '@weft/xds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DiscoveryServer, startDiscovery } from '../../src/index.ts';
import { getSyncz } from './fixtures/debug-http.ts';
import { type ConfigDir, createConfigDir, echoServiceEntry, waitFor } from './fixtures/mesh-config.ts';

type LogLine = Record<string, unknown>;

/** Opens a raw SotW ADS stream, sends one request with `nodeId`, and resolves with the final status. */
function openRawStream(address: string, nodeId: string): Promise<grpc.StatusObject> {
  const request = loadEnvoyProtos().type('envoy.service.discovery.v3.DiscoveryRequest');
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  const call = client.makeBidiStreamRequest(
    '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources',
    (value: Record<string, unknown>) => Buffer.from(request.encode(request.fromObject(value)).finish()),
    (bytes: Buffer) => bytes,
  );
  return new Promise((resolve) => {
    call.on('data', () => {});
    call.on('error', () => {});
    call.on('status', (status) => {
      client.close();
      resolve(status);
    });
    call.write({ node: { id: nodeId }, typeUrl: LISTENER_TYPE_URL });
  });
}

function capture(lines: LogLine[], name: string) {
  return createLogger({ name, level: 'debug', write: (line) => lines.push(JSON.parse(line) as LogLine) });
}

describe('a node that does not parse', () => {
  let config: ConfigDir;
  let discovery: DiscoveryServer;
  const serverLog: LogLine[] = [];
  const clients: AdsClient[] = [];

  beforeAll(async () => {
    config = await createConfigDir();
    await config.write('echo.yaml', echoServiceEntry());
    discovery = await startDiscovery({
      source: { kind: 'directory', dir: config.dir },
      logger: capture(serverLog, 'weft-discovery'),
    });
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    await discovery?.close();
    await config?.cleanup();
  });

  function connect(nodeId: string, metadata: Record<string, unknown>): AdsClient {
    const client = createAdsClient({ address: discovery.xdsAddress, node: { id: nodeId, metadata } });
    clients.push(client);
    client.subscribe(LISTENER_TYPE_URL);
    client.start();
    return client;
  }

  it('ends the stream with INVALID_ARGUMENT and the reason, and serves the next proxy', async () => {
    const status = await openRawStream(discovery.xdsAddress, 'not-an-istio-node-id');
    expect(status.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(status.details).toBe(
      'node "not-an-istio-node-id" refused: node.id: "not-an-istio-node-id" is not TYPE~IP~NAME.NAMESPACE~DNSDOMAIN with TYPE sidecar or router',
    );
    expect(serverLog.find((l) => l.msg === 'refused ADS stream: bad node')).toMatchObject({
      level: 'warn',
      nodeId: 'not-an-istio-node-id',
    });

    const good = connect('sidecar~127.0.0.1~fine.default~default.svc.cluster.local', { GENERATOR: 'grpc' });
    await waitFor('listeners for the good proxy', () => good.version(LISTENER_TYPE_URL) !== '');
    const syncz = await getSyncz(discovery.httpAddress);
    expect(syncz.map((p) => p.nodeId)).toEqual(['sidecar~127.0.0.1~fine.default~default.svc.cluster.local']);
  });
});
